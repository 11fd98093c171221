import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Selector } from '#shared/catalog/entity-schemas';
import { contestedClaims, isCatchAll } from '#shared/ownership/selector-claims';
import { compileSelectors } from '#shared/ownership/selector-matcher';

const on = (attribute: string, match: Selector['match'], value: string): Selector => ({
  attribute,
  match,
  value,
});
const ns = (match: Selector['match'], value: string) => on('k8s.namespace.name', match, value);
const victim = {
  id: 'payments-api',
  selectors: [ns('exact', 'payments'), on('faas.name', 'glob', 'pay-*-fn')],
};
const claims = (selectors: Selector[], id = 'intruder', current?: { id: string; selectors?: Selector[] }) =>
  contestedClaims(current, { id, selectors }, [victim]).map(
    (c) => `${c.owner}: ${c.claim.match} ${c.claim.value}`,
  );

describe('selector claims', () => {
  it('contest a copy, or a same-or-more specific rule, for values another service matches', () => {
    assert.deepEqual(claims([ns('exact', 'payments')]), ['payments-api: exact payments']);
    assert.deepEqual(claims([on('faas.name', 'exact', 'pay-eu-fn')]), ['payments-api: exact pay-eu-fn']);
    assert.deepEqual(
      claims([on('faas.name', 'glob', 'pay-?u-*')]),
      [],
      'fewer literal characters: less specific',
    );
    assert.deepEqual(claims([on('faas.name', 'glob', 'pay-e*-fn')]), ['payments-api: glob pay-e*-fn']);
    assert.deepEqual(
      claims([on('faas.name', 'prefix', 'pay-')]),
      ['payments-api: prefix pay-'],
      'prefix beats glob',
    );
    assert.deepEqual(claims([on('faas.name', 'glob', 'search-*')]), [], 'no value matches both');
    assert.deepEqual(claims([ns('prefix', 'pay')]), [], 'a prefix loses to the exact owner');
    assert.deepEqual(claims([on('k8s.deployment.name', 'exact', 'payments')]), [], 'another attribute');
  });

  it("contest a new service whose id another service's service.name selector matches", () => {
    const owner = { id: 'search', selectors: [on('service.name', 'prefix', 'search-')] };
    const contested = contestedClaims(undefined, { id: 'search-indexer' }, [owner]);
    assert.deepEqual(
      contested.map((c) => [c.claim.match, c.owner]),
      [['name', 'search']],
    );
    assert.deepEqual(
      contestedClaims({ id: 'search-indexer' }, { id: 'search-indexer' }, [owner]),
      [],
      'an update',
    );
  });

  it('check only the claims a write adds, and never a service against itself', () => {
    const current = { id: 'intruder', selectors: [ns('exact', 'payments')] };
    assert.deepEqual(claims([ns('exact', 'payments')], 'intruder', current), []);
    assert.deepEqual(
      contestedClaims(victim, { ...victim, selectors: [ns('exact', 'payments')] }, [victim]),
      [],
    );
  });

  it('call a prefix or glob fixing fewer than 4 characters a catch-all', () => {
    assert.equal(isCatchAll(on('service.name', 'glob', '*')), true);
    assert.equal(isCatchAll(on('service.name', 'glob', '*-*-*')), true);
    assert.equal(isCatchAll(on('service.name', 'prefix', 'api')), true);
    assert.equal(isCatchAll(on('service.name', 'prefix', 'api-')), false);
    assert.equal(isCatchAll(on('service.name', 'exact', 'a')), false);
    assert.equal(isCatchAll(on('service.name', 'glob', 'pay*')), true);
    assert.equal(isCatchAll(on('service.name', 'glob', 'pay-*')), false);
  });

  it('never let a write take a value from its owner without a contest (property, against the matcher)', () => {
    const selector = fc.record({
      attribute: fc.constant('a'),
      match: fc.constantFrom<Selector['match']>('exact', 'prefix', 'glob'),
      value: fc
        .array(fc.constantFrom('x', 'y', '*', '?'), { minLength: 1, maxLength: 4 })
        .map((c) => c.join('')),
    });
    const value = fc.array(fc.constantFrom('x', 'y', '*', '?'), { maxLength: 6 }).map((c) => c.join(''));
    fc.assert(
      fc.property(
        fc.array(selector, { minLength: 1, maxLength: 3 }),
        fc.array(selector, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.array(value, { minLength: 1, maxLength: 20 }),
        (owned, claimed, ownerFirst, values) => {
          const [ownerId, claimantId] = ownerFirst ? ['a-owner', 'b-claimant'] : ['b-owner', 'a-claimant'];
          const owner = { id: ownerId, selectors: owned };
          const before = compileSelectors([owner]);
          const after = compileSelectors([owner, { id: claimantId, selectors: claimed }]);
          const taken = values.filter(
            (v) =>
              before.match({ a: v })?.service === ownerId && after.match({ a: v })?.service === claimantId,
          );
          if (taken.length === 0) return;
          const contests = contestedClaims(undefined, { id: claimantId, selectors: claimed }, [owner]);
          assert.ok(
            contests.length > 0,
            `${JSON.stringify(claimed)} takes ${taken} from ${JSON.stringify(owned)}`,
          );
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
