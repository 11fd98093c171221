/**
 * `npx tsx bench/claims/run.ts`: what a claim check costs in the API. First the
 * observed-source part, at the cap of observed sources it reads: resolving every
 * source with the catalog as it is and as it would be (ownerChanges), for
 * catalogs of 100 to 5,000 services with two selectors each.
 */
import { type AccessControl, makeAccessControl } from '#functions/api/access-control';
import { refusedClaims } from '#functions/api/routes/telemetry-claims';
import { type Policy, policySchema } from '#shared/auth/policy-schema';
import type { Principal } from '#shared/auth/principal';
import type { Selector } from '#shared/catalog/entity-schemas';
import { maxObservedSourcesChecked, type ObservedSource } from '#shared/ownership/observed-sources';
import { ownerChanges } from '#shared/ownership/owner-changes';
import type { CatalogStore, StoredDocument } from '#shared/store/catalog-store';
import { refusedClaimsBaseline } from './baseline.ts';

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

/**
 * The whole claim check of a service write (refusedClaims), before and after
 * contested owners were indexed, side by side: a CI job that may change only
 * its own repository's services creates one service whose namespace selector
 * contests one owner, against a catalog of services of another repository.
 * The policies come from a fixed list (the store's only part AccessControl
 * reads), so the figures are the check's own cost, DynamoDB aside.
 */
const jobPolicy: Policy = policySchema.parse({
  id: 'ci-own-repo',
  principal: { iss: 'https://token.actions.githubusercontent.com', repository_owner: 'acme' },
  statements: [
    {
      sid: 'OwnServices',
      effect: 'allow',
      actions: ['catalog:PutService'],
      resources: ['service/*'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
      conditions: { StringEquals: { 'resource.repository': 'github.com/${token.repository}' } },
    },
  ],
});
const policyList = {
  list: async () => ({ items: [{ doc: jobPolicy }] }),
} as unknown as CatalogStore;
const job: Principal = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'repo:acme/mine:ref:refs/heads/main',
  scopes: [],
  claims: {
    iss: 'https://token.actions.githubusercontent.com',
    repository: 'acme/mine',
    repository_owner: 'acme',
  },
};

async function median(run: () => Promise<unknown>, times = 5) {
  const taken: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    taken.push(performance.now() - started);
  }
  return taken.sort((a, b) => a - b)[Math.floor(times / 2)] as number;
}

console.log('\nwhole claim check of one PUT contesting one owner (ms, median of 5; decisions per check)');
for (const services of [2_000, 10_000]) {
  for (const sources of [0, maxObservedSourcesChecked]) {
    const stored: StoredDocument[] = Array.from({ length: services }, (_, i) => ({
      id: `svc-${i}`,
      team: 'theirs',
      repository: 'github.com/acme/theirs',
      selectors: selectorsOf(i),
    }));
    const proposed: StoredDocument = {
      id: 'newcomer',
      team: 'mine',
      repository: 'github.com/acme/mine',
      selectors: [
        { attribute: 'k8s.namespace.name', match: 'exact', value: 'team-7' },
        { attribute: 'faas.name', match: 'prefix', value: 'newcomer-' },
      ],
    };
    const catalog = [...stored, proposed];
    const byId = new Map(stored.map((s) => [s.id, s]));
    const seen = observed(sources, services);
    let decisions = 0;
    const real = makeAccessControl(policyList);
    const access: AccessControl = {
      ...real,
      decide: (...args) => {
        decisions++;
        return real.decide(...args);
      },
    };
    const check = (refused: typeof refusedClaims) => async () => {
      decisions = 0;
      const r = await refused(access, job, [{ proposed }], catalog, byId, seen);
      if (r.contested.length !== 1) throw new Error(`expected one contest, got ${r.contested.length}`);
    };
    const before = await median(check(refusedClaimsBaseline));
    const beforeDecisions = decisions;
    const after = await median(check(refusedClaims));
    console.log(
      `  ${services.toLocaleString('en').padStart(6)} services, ${sources.toLocaleString('en').padStart(6)} observed sources: ` +
        `baseline ${before.toFixed(1)} ms (${beforeDecisions} decisions), now ${after.toFixed(1)} ms (${decisions} decisions), ${(before / after).toFixed(1)}x`,
    );
  }
}
