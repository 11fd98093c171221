import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bodyObject, pageRequest, pathId, versionPrecondition } from '#functions/api/request-parsing';
import { repositoryId, slugId } from '#shared/catalog/entity-schemas';
import { HttpProblem } from '#shared/http/problem';
import type { ApiEvent } from '#shared/http/require-principal';

const event = (parts: Partial<ApiEvent>) => ({ headers: {}, ...parts }) as ApiEvent;
const problemWith = (status: number, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof HttpProblem);
  assert.equal(error.status, status);
  assert.match(error.detail, pattern);
  return true;
};

describe('request parsing', () => {
  it('reads repository ids that arrive decoded (several segments) or still encoded', () => {
    assert.equal(
      pathId(event({ pathParameters: { proxy: 'github.com/acme/checkout' } }), repositoryId, 'repository'),
      'github.com/acme/checkout',
    );
    assert.equal(
      pathId(
        event({ pathParameters: { proxy: 'github.com%2Facme%2Fcheckout' } }),
        repositoryId,
        'repository',
      ),
      'github.com/acme/checkout',
    );
  });

  it('answers a bad id with a 400 that quotes it', () => {
    assert.throws(
      () => pathId(event({ pathParameters: { proxy: 'Not An Id' } }), slugId, 'team'),
      problemWith(400, /"Not An Id" is not a valid team id/),
    );
    assert.throws(
      () => pathId(event({ pathParameters: { proxy: '%E0%A4%A' } }), slugId, 'team'),
      problemWith(400, /percent-encoding/),
    );
  });

  it('maps If-Match and If-None-Match to version preconditions', () => {
    assert.equal(versionPrecondition(event({ headers: { 'if-match': '"7"' } })), 7);
    assert.equal(versionPrecondition(event({ headers: { 'if-match': 'W/"7"' } })), 7);
    assert.equal(versionPrecondition(event({ headers: { 'if-none-match': '*' } })), 'absent');
    assert.equal(versionPrecondition(event({})), undefined);
    assert.throws(
      () => versionPrecondition(event({ headers: { 'if-match': '"abc"' } })),
      problemWith(412, /ETag/),
    );
    assert.throws(
      () => versionPrecondition(event({ headers: { 'if-match': '"1"', 'if-none-match': '*' } })),
      problemWith(400, /either/),
    );
  });

  it('bounds the page size', () => {
    assert.deepEqual(pageRequest(event({})), { limit: 50 });
    assert.deepEqual(pageRequest(event({ queryStringParameters: { limit: '5', cursor: 'c' } })), {
      limit: 5,
      cursor: 'c',
    });
    for (const limit of ['0', '101', '2.5', 'ten']) {
      assert.throws(
        () => pageRequest(event({ queryStringParameters: { limit } })),
        problemWith(400, /limit/),
      );
    }
  });

  it('refuses an empty cursor', () => {
    assert.throws(
      () => pageRequest(event({ queryStringParameters: { cursor: '' } })),
      problemWith(400, /cursor is empty/),
    );
  });

  it('finds a lone surrogate in any key or string of a body, and only then', () => {
    // An independent oracle: UTF-8 cannot carry a lone surrogate, so the round trip changes the string.
    const broken = (text: string) => Buffer.from(text, 'utf8').toString('utf8') !== text;
    const anyBroken = (value: unknown): boolean =>
      typeof value === 'string'
        ? broken(value)
        : typeof value === 'object' && value !== null
          ? Object.entries(value).some(([key, child]) => broken(key) || anyBroken(child))
          : false;
    const resolvePointer = (root: unknown, pointer: string) =>
      pointer
        .split('/')
        .slice(1)
        .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
        .reduce<{ value: unknown; key: string }>(
          ({ value }, key) => ({ value: (value as Record<string, unknown>)[key], key }),
          { value: root, key: '' },
        );
    // Mostly whole characters (surrogate pairs included), now and then half of a pair.
    const unit = fc.oneof(
      { arbitrary: fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff'), weight: 1 },
      { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), weight: 30 },
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit }), fc.jsonValue({ maxDepth: 4, stringUnit: unit })),
        (body) => {
          const withStrings = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
          let refused: HttpProblem | undefined;
          try {
            assert.equal(bodyObject(event({ body: withStrings as never })), withStrings);
          } catch (error) {
            assert.ok(error instanceof HttpProblem);
            refused = error;
          }
          assert.equal(refused !== undefined, anyBroken(withStrings));
          if (refused) {
            assert.equal(refused.status, 400);
            const [{ pointer }] = refused.extensions.errors as { pointer: string }[] as [{ pointer: string }];
            const { value, key } = resolvePointer(withStrings, pointer);
            assert.ok(broken(key) || (typeof value === 'string' && broken(value)), pointer);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('walks a body nested far deeper than the call stack', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.throws(
      () => bodyObject(event({ body: { deep } as never })),
      problemWith(400, /lone UTF-16 surrogate/),
    );
  });
});
