import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { state, token } from './api-client.ts';

const collections = ['teams', 'services', 'repositories', 'environments', 'policies'];

/** Any path the API serves, with ids drawn from anything a client might send. */
const path = fc.oneof(
  fc
    .tuple(fc.constantFrom(...collections), fc.string({ maxLength: 40 }))
    .map(([c, id]) => `/v1/${c}/${encodeURIComponent(id)}`),
  fc
    .tuple(fc.constantFrom(...collections), fc.string({ maxLength: 12 }))
    .map(([c, q]) => `/v1/${c}?limit=${encodeURIComponent(q)}&cursor=${encodeURIComponent(q)}`),
  fc.string({ maxLength: 30 }).map((e) => `/v1/audit?entity=${encodeURIComponent(e)}`),
  fc.string({ maxLength: 30 }).map((e) => `/v1/audit/verify?entity=${encodeURIComponent(e)}`),
  fc.constantFrom('/v1/whoami', '/v1', '/v1/teams/', '/v2/teams', '/'),
  fc.constantFrom('/v1/apply', '/v1/apply?dryRun=true', '/v1/apply?prune=true', '/v1/apply?dryRun=maybe&x=1'),
  fc.webPath().map((p) => `/v1${p}`),
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc
    .record(
      {
        name: fc.string(),
        contacts: fc.jsonValue({ maxDepth: 2 }),
        team: fc.string(),
        cloud: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/xml',
      '',
      'application/json; charset=utf-8',
    ),
    'if-match': fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.nat().map((n) => `"${n}"`),
    ),
    'if-none-match': fc.constantFrom('*', '"1"', 'x'),
  },
  { requiredKeys: [] },
);

describe('bad input never breaks the API', () => {
  it('answers random methods, paths, headers and bodies with a non-5xx; every error is problem+json', async () => {
    const bearer = await token('admin');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH'),
        path,
        headers,
        body,
        async (method, p, h, b) => {
          const sendsBody = b !== undefined && method !== 'GET';
          const clean = Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)));
          const response = await fetch(`${state.apiUrl}${p}`, {
            method,
            headers: { ...clean, authorization: `Bearer ${bearer}` },
            body: sendsBody ? b : undefined,
          });
          const text = await response.text();
          assert.ok(response.status < 500, `${method} ${p} → ${response.status} ${text}`);
          if (response.status >= 400) {
            assert.equal(response.headers.get('content-type'), 'application/problem+json', `${method} ${p}`);
            const problem = JSON.parse(text);
            assert.equal(problem.status, response.status);
            assert.ok(problem.detail.length > 0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
