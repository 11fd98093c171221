import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageRequest, pathId, versionPrecondition } from '#functions/api/request-parsing';
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
});
