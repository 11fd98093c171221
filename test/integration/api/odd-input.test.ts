/**
 * A caller with a valid token and odd input: pagination cursors it made up and
 * strings JSON can carry but text cannot. Every one is a 4xx problem naming what
 * is wrong, through the real gateway and DynamoDB Local; none is a 5xx.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { call, state, token, unique } from './api-client.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const paged = [
  '/v1/teams?',
  '/v1/services?',
  '/v1/policies?',
  '/v1/unowned?',
  '/v1/audit?entity=team/payments&',
];

async function expectProblem(method: string, path: string, status: number, body?: string) {
  const r = await call(method, path, { ...(body === undefined ? {} : { body }) });
  assert.equal(r.status, status, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  return r.body;
}

describe('odd input from a trusted caller', () => {
  it('answers a path no route serves with a 404 problem naming method and path', async () => {
    const problem = await expectProblem('GET', '/v1/nowhere', 404);
    assert.equal(problem.title, 'Not Found');
    assert.equal(problem.detail, 'no route GET /v1/nowhere');
  });

  it('answers made-up cursors with 400: empty, an empty key, a huge or fractional number, a lone surrogate', async () => {
    const cursors = [
      '',
      b64('""'),
      b64('{"k":""}'),
      b64('{"k":1e308}'),
      b64('{"k":1e999}'),
      b64('{"k":-1}'),
      b64('{"k":"\\ud800"}'),
      b64(`{"k":"${'x'.repeat(2000)}"}`),
    ];
    for (const prefix of paged)
      for (const cursor of cursors) {
        const problem = await expectProblem('GET', `${prefix}cursor=${cursor}`, 400);
        assert.match(String(problem.detail), /cursor/);
      }
  });

  it('never answers an arbitrary cursor with a 5xx', async () => {
    const bearer = await token('admin');
    const cursors = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.jsonValue({ maxDepth: 2 }).map((k) => b64(JSON.stringify({ k }))),
      fc.string({ unit: 'binary', maxLength: 40 }).map(b64),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paged), cursors, async (prefix, cursor) => {
        const url = `${state.apiUrl}${prefix}cursor=${encodeURIComponent(cursor)}`;
        const get = () => fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
        // A kept-alive socket the server closed while idle is the transport's race, not an answer: send again.
        const response = await get().catch(get);
        const text = await response.text();
        assert.ok(response.status < 500, `${prefix}cursor=${cursor} → ${response.status} ${text}`);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a lone surrogate anywhere in a JSON body, or a team that is its own parent in an apply, with 400 naming the field', async () => {
    const id = unique('surrogate');
    const team = (name: string) => `{"id":"${id}","name":"${name}","contacts":{"slack":"#x"}}`;
    let problem = await expectProblem('PUT', `/v1/teams/${id}`, 400, team('\\ud800'));
    assert.deepEqual(
      (problem.errors as { pointer: string }[]).map((e) => e.pointer),
      ['/name'],
    );
    assert.match(String(problem.detail), /\/name: .*lone UTF-16 surrogate/);

    problem = await expectProblem(
      'PUT',
      `/v1/teams/${id}`,
      400,
      `{"id":"${id}","name":"n","contacts":{"\\udfff":"x"}}`,
    );
    assert.deepEqual(
      (problem.errors as { pointer: string }[]).map((e) => e.pointer),
      ['/contacts/\udfff'],
    );

    const apply = `{"apiVersion":"portolan/v1","entities":[{"kind":"team","id":"${id}","name":"x\\udbff"}]}`;
    problem = await expectProblem('POST', '/v1/apply?dryRun=true', 400, apply);
    assert.deepEqual(
      (problem.errors as { pointer: string }[]).map((e) => e.pointer),
      ['/entities/0/name'],
    );

    const selfParent = { apiVersion: 'portolan/v1', entities: [{ kind: 'team', id, name: 'x', parent: id }] };
    for (const dryRun of [true, false]) {
      problem = await expectProblem('POST', `/v1/apply?dryRun=${dryRun}`, 400, JSON.stringify(selfParent));
      assert.deepEqual(
        (problem.errors as { pointer: string }[]).map((e) => e.pointer),
        ['/entities/0/parent'],
      );
    }

    const policy = `{"statements":[{"effect":"allow","actions":["catalog:Get\\ud800"],"resources":["*"]}]}`;
    await expectProblem('PUT', `/v1/policies/${unique('p')}`, 400, policy);

    // A pair is a character like any other.
    const ok = await call('PUT', `/v1/teams/${id}`, { body: team('Pay \\ud83d\\udcb3') });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.name, 'Pay 💳');
  });
});
