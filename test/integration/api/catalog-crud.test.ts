import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, teamDoc, unique } from './api-client.ts';

const isProblem = (r: { headers: Headers; body: Record<string, unknown> }, status: number) => {
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.detail, 'string');
};

describe('catalog CRUD over HTTP', () => {
  it('creates (201), reads with an ETag, replaces (200) and deletes (204) a team', async () => {
    const id = unique('team');
    const created = await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, 'Payments') });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('etag'), '"1"');
    assert.equal(created.body.version, 1);
    assert.ok(created.body.createdAt);

    const read = await call('GET', `/v1/teams/${id}`, { as: 'reader' });
    assert.equal(read.status, 200);
    assert.equal(read.body.name, 'Payments');
    assert.equal(read.headers.get('etag'), '"1"');

    const replaced = await call('PUT', `/v1/teams/${id}`, {
      body: teamDoc(id, 'Payments & Billing'),
      headers: { 'if-match': '"1"' },
    });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.version, 2);

    assert.equal((await call('DELETE', `/v1/teams/${id}`, { headers: { 'if-match': '"2"' } })).status, 204);
    isProblem(await call('GET', `/v1/teams/${id}`), 404);
  });

  it('answers 412 to a stale If-Match and to If-None-Match on an existing entity', async () => {
    const id = unique('team');
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id) });
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, 'second') });
    const stale = await call('PUT', `/v1/teams/${id}`, {
      body: teamDoc(id, 'third'),
      headers: { 'if-match': '"1"' },
    });
    isProblem(stale, 412);
    assert.match(String(stale.body.detail), /version 2/);
    isProblem(
      await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id), headers: { 'if-none-match': '*' } }),
      412,
    );
    isProblem(await call('DELETE', `/v1/teams/${id}`, { headers: { 'if-match': '"1"' } }), 412);
  });

  it('keeps ids with slashes (repositories) intact, URL-encoded in the path', async () => {
    const team = unique('team');
    await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) });
    const repo = `github.com/acme/${unique('repo')}`;
    const path = `/v1/repositories/${encodeURIComponent(repo)}`;
    const created = await call('PUT', path, { body: { team, url: `https://${repo}` } });
    assert.equal(created.status, 201);
    assert.equal(created.body.id, repo);
    assert.equal((await call('GET', path)).body.team, team);
  });

  it('refuses a service whose team does not exist, and writes nothing', async () => {
    const id = unique('svc');
    const refused = await call('PUT', `/v1/services/${id}`, { body: { team: unique('ghost') } });
    isProblem(refused, 422);
    assert.match(String(refused.body.detail), /team\/ghost-\w+ does not exist/);
    isProblem(await call('GET', `/v1/services/${id}`), 404);
  });

  it('refuses to delete a team that owns services, listing them (409)', async () => {
    const team = unique('team');
    const svc = unique('svc');
    await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) });
    assert.equal((await call('PUT', `/v1/services/${svc}`, { body: { team, tier: 'tier-2' } })).status, 201);
    const refused = await call('DELETE', `/v1/teams/${team}`);
    isProblem(refused, 409);
    assert.deepEqual(refused.body.dependents, [`service/${svc}`]);
    assert.equal((await call('DELETE', `/v1/services/${svc}`)).status, 204);
    assert.equal((await call('DELETE', `/v1/teams/${team}`)).status, 204);
  });

  it('paginates lists with limit and an opaque cursor', async () => {
    const prefix = unique('page');
    for (const n of [1, 2, 3, 4, 5]) {
      await call('PUT', `/v1/environments/${prefix}-${n}`, { body: { cloud: { provider: 'aws' } } });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(
        'GET',
        `/v1/environments?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(page.status, 200);
      assert.ok((page.body.items ?? []).length <= 2);
      seen.push(...(page.body.items ?? []).map((e) => String(e.id)));
      cursor = page.body.nextCursor as string | undefined;
      pages++;
    } while (cursor && pages < 1000);
    const mine = seen.filter((id) => id.startsWith(prefix));
    assert.deepEqual(
      mine,
      [1, 2, 3, 4, 5].map((n) => `${prefix}-${n}`),
    );
    assert.equal(new Set(seen).size, seen.length, 'no item appears twice across pages');
    isProblem(await call('GET', '/v1/environments?cursor=forged'), 400);
  });

  it('answers bad input with precise 4xx problems', async () => {
    const id = unique('team');
    const unknownField = await call('PUT', `/v1/teams/${id}`, { body: { name: 'x', owner: 'y' } });
    isProblem(unknownField, 400);
    assert.deepEqual(unknownField.body.errors, [{ pointer: '/owner', detail: 'unknown field' }]);
    isProblem(await call('PUT', `/v1/teams/${id}`, { body: '{"name": ' }), 400);
    isProblem(
      await call('PUT', `/v1/teams/${id}`, { body: 'name=x', headers: { 'content-type': 'text/plain' } }),
      415,
    );
    isProblem(await call('PUT', `/v1/teams/${id}`, { body: { name: 'x'.repeat(300 * 1024) } }), 413);
    isProblem(await call('PUT', `/v1/teams/${id}`, { body: { id: 'other', name: 'x' } }), 400);
    isProblem(await call('GET', '/v1/teams/Not%20Valid'), 400);
    isProblem(await call('GET', '/v1/nothing-here'), 404);
  });
});
