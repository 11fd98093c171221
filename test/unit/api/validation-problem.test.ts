import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { service } from '#shared/catalog/entity-schemas';
import { validationProblem } from '#shared/http/validation-problem';

describe('validation problems', () => {
  it('point at every offending field, unknown fields by name', () => {
    const result = service.safeParse({
      id: 'checkout',
      team: 'payments',
      tier: 'gold',
      colour: 'red',
      selectors: [{}],
    });
    assert.equal(result.success, false);
    const problem = validationProblem(result.error as never, 'service document');
    const body = problem.toBody();
    assert.equal(body.status, 400);
    const pointers = (body.errors as { pointer: string }[]).map((e) => e.pointer).sort();
    assert.deepEqual(pointers, [
      '/colour',
      '/selectors/0/attribute',
      '/selectors/0/match',
      '/selectors/0/value',
      '/tier',
    ]);
    assert.match(body.detail, /^The service document is invalid: \/\w+.* \(and 4 more\)$/);
  });
});
