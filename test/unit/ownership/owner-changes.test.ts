import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Selector } from '#shared/catalog/entity-schemas';
import type { ObservedSource } from '#shared/ownership/observed-sources';
import { ownerChanges, witness } from '#shared/ownership/owner-changes';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import type { ClaimingService } from '#shared/ownership/selector-claims';

const on = (attribute: string, match: Selector['match'], value: string): Selector => ({
  attribute,
  match,
  value,
});
const seen = (attributes: SourceAttributes): ObservedSource => ({
  attributes,
  owner: '',
  firstSeen: '2026-11-25T00:00:00.000Z',
  lastSeen: '2026-11-25T00:00:00.000Z',
});
const victim: ClaimingService = {
  id: 'payments-api',
  selectors: [on('k8s.namespace.name', 'exact', 'payments')],
};
const theirs = seen({
  'service.name': 'checkout',
  'k8s.namespace.name': 'payments',
  'k8s.cluster.name': 'prod-eu-west-1-main',
});
/** What adding `service` to the victim's catalog moves: `from → to` per source. */
const moved = (service: ClaimingService, observed = [theirs]) =>
  ownerChanges(observed, [victim], [victim, service], service.selectors ?? []).map(
    (c) => `${c.from} → ${c.to}`,
  );

describe('owner changes', () => {
  it('a selector on another attribute that outranks the owner takes the source', () => {
    const cluster = on('k8s.cluster.name', 'exact', 'prod-eu-west-1-main');
    assert.deepEqual(moved({ id: 'intruder', selectors: [cluster] }), ['payments-api → intruder']);
  });

  it("a service named like the source's service.name, or an equal exact selector on it, takes the source", () => {
    assert.deepEqual(moved({ id: 'checkout' }), ['payments-api → checkout']);
    const copy = on('service.name', 'exact', 'checkout');
    assert.deepEqual(moved({ id: 'aaa', selectors: [copy] }), ['payments-api → aaa'], 'ties go to the id');
    assert.deepEqual(moved({ id: 'zzz', selectors: [copy] }), [], 'a tie the owner wins takes nothing');
  });

  it('a claim on what the source does not carry, or a less specific one, takes nothing', () => {
    assert.deepEqual(moved({ id: 'intruder', selectors: [on('k8s.cluster.name', 'exact', 'staging')] }), []);
    assert.deepEqual(moved({ id: 'intruder', selectors: [on('k8s.cluster.name', 'prefix', 'prod-')] }), []);
    assert.deepEqual(moved({ id: 'intruder' }), []);
  });

  it('a source nobody owns is not taken from anyone', () => {
    const unowned = seen({ 'k8s.namespace.name': 'search' });
    const all = on('k8s.namespace.name', 'exact', 'search');
    assert.deepEqual(moved({ id: 'intruder', selectors: [all] }, [unowned]), []);
  });

  it('assumes an attribute the observation did not record carries a value the new selector matches', () => {
    const language = on('telemetry.sdk.language', 'exact', 'nodejs-and-more');
    assert.deepEqual(moved({ id: 'intruder', selectors: [language] }), ['payments-api → intruder']);
    const python = seen({ ...theirs.attributes, 'telemetry.sdk.language': 'python' });
    assert.deepEqual(moved({ id: 'intruder', selectors: [language] }, [python]), [], 'recorded: known');
    const inherited = on('constructor', 'exact', 'a-value-longer-than-the-namespace');
    assert.deepEqual(
      moved({ id: 'intruder', selectors: [inherited] }),
      ['payments-api → intruder'],
      'a name every object inherits is not taken for a recorded attribute',
    );
    const cluster = on('k8s.cluster.name', 'exact', 'a-much-longer-cluster-name');
    const clusterless = seen({ 'k8s.namespace.name': 'payments' });
    assert.deepEqual(
      moved({ id: 'intruder', selectors: [cluster] }, [clusterless]),
      [],
      'identifying attributes are always recorded: absent means absent',
    );
  });

  it('a witness matches its selector', () => {
    assert.equal(witness(on('a', 'glob', 'pay-?u-*-fn')), 'pay-xu--fn');
    assert.equal(witness(on('a', 'prefix', 'pay-')), 'pay-');
  });

  const attribute = fc.constantFrom('service.name', 'k8s.namespace.name', 'k8s.cluster.name');
  const value = fc.constantFrom('a', 'ab', 'abc', 'b', 'ba');
  const selector = fc.record({
    attribute,
    match: fc.constantFrom<Selector['match']>('exact', 'prefix', 'glob'),
    value: fc.oneof(value, fc.constantFrom('a*', '*b', '?b', 'a?c')),
  });
  const service = fc.record({
    id: fc.constantFrom('a', 'ab', 'b', 'ba', 'c', 'me'),
    selectors: fc.array(selector, { maxLength: 4 }),
  });
  const source = fc
    .dictionary(attribute, value, { minKeys: 1 })
    .map((attributes) => seen(attributes as SourceAttributes));

  it('property: dropping some of its own selectors moves only sources the caller owned', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(service, { selector: (s) => s.id, maxLength: 5 }),
        fc.array(selector, { maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(source, { maxLength: 20 }),
        (others, mine, keep, observed) => {
          const caller = { id: 'me', selectors: mine };
          const before = [...others.filter((s) => s.id !== 'me'), caller];
          const narrowed = { id: 'me', selectors: mine.filter((_, i) => keep[i]) };
          const after = before.map((s) => (s.id === 'me' ? narrowed : s));
          for (const change of ownerChanges(observed, before, after, []))
            assert.equal(change.from, 'me', JSON.stringify(change));
        },
      ),
    );
  });

  it('property: a catalog unchanged moves nothing; a new service takes only for itself', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(service, { selector: (s) => s.id, maxLength: 5 }),
        fc.array(selector, { maxLength: 4 }),
        fc.array(source, { maxLength: 20 }),
        (services, claims, observed) => {
          const before = services.filter((s) => s.id !== 'me');
          assert.deepEqual(ownerChanges(observed, before, before, []), []);
          const after = [...before, { id: 'me', selectors: claims }];
          for (const change of ownerChanges(observed, before, after, claims))
            assert.equal(change.to, 'me', JSON.stringify(change));
        },
      ),
    );
  });
});
