/**
 * `npx tsx bench/claims/run.ts`: what the observed-source part of a claim check
 * costs in the API, at the cap of observed sources it reads: resolving every
 * source with the catalog as it is and as it would be (ownerChanges), for
 * catalogs of 100 to 5,000 services with two selectors each.
 */
import type { Selector } from '#shared/catalog/entity-schemas';
import { maxObservedSourcesChecked, type ObservedSource } from '#shared/ownership/observed-sources';
import { ownerChanges } from '#shared/ownership/owner-changes';

const selectorsOf = (i: number): Selector[] => [
  { attribute: 'k8s.namespace.name', match: 'exact', value: `team-${i}` },
  { attribute: 'faas.name', match: 'glob', value: `fn-${i}-*` },
];

function observed(count: number, services: number): ObservedSource[] {
  return Array.from({ length: count }, (_, i) => ({
    attributes: {
      'service.name': `process-${i}`,
      'k8s.namespace.name': `team-${i % services}`,
      'k8s.cluster.name': `cluster-${i % 7}`,
      'cloud.region': 'eu-west-1',
    },
    owner: `svc-${i % services}`,
    firstSeen: '2026-11-25T00:00:00.000Z',
    lastSeen: '2026-11-25T00:00:00.000Z',
  }));
}

console.log(
  `claim check over ${maxObservedSourcesChecked.toLocaleString('en')} observed sources (ms, median of 5)`,
);
for (const services of [100, 1_000, 5_000]) {
  const before = Array.from({ length: services }, (_, i) => ({ id: `svc-${i}`, selectors: selectorsOf(i) }));
  const claim: Selector = { attribute: 'k8s.cluster.name', match: 'exact', value: 'cluster-3' };
  const after = [...before, { id: 'newcomer', selectors: [claim] }];
  const sources = observed(maxObservedSourcesChecked, services);
  const times: number[] = [];
  let moved = 0;
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    moved = ownerChanges(sources, before, after, [claim]).length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(
    `  ${String(services).padStart(5)} services: ${(times[2] as number).toFixed(1).padStart(7)} ms  (${moved} sources would move)`,
  );
}
