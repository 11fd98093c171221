/** JSON equality by canonical form: what "unchanged" means for apply and for the audit hashes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, sameJson } from '#shared/json/canonical-json';

describe('canonical JSON', () => {
  it('ignores key order, at any depth', () => {
    assert.ok(sameJson({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
    assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
  });

  it('tells apart array order, types, null and an absent field', () => {
    assert.ok(!sameJson([1, 2], [2, 1]));
    assert.ok(!sameJson(1, '1'));
    assert.ok(!sameJson({ a: null }, {}));
    assert.ok(!sameJson(null, undefined));
    assert.ok(sameJson(undefined, undefined));
    assert.ok(sameJson({ a: undefined }, {}), 'an undefined field is an absent one, as in JSON');
  });
});
