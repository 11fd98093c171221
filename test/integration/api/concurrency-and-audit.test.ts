import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, teamDoc, unique } from './api-client.ts';

describe('concurrency and the audit log over HTTP', () => {
  it('lets exactly one of 20 clients with the same If-Match win; 20 sequential updates chain 20 events', async () => {
    const id = unique('team');
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id) });

    const racers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, `racer ${i}`), headers: { 'if-match': '"1"' } }),
      ),
    );
    const statuses = racers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, ...Array(19).fill(412)]);
    assert.equal((await call('GET', `/v1/teams/${id}`)).body.version, 2);

    for (let i = 0; i < 20; i++) {
      const current = await call('GET', `/v1/teams/${id}`);
      const updated = await call('PUT', `/v1/teams/${id}`, {
        body: teamDoc(id, `step ${i}`),
        headers: { 'if-match': current.headers.get('etag') ?? '' },
      });
      assert.equal(updated.status, 200);
    }
    assert.equal((await call('GET', `/v1/teams/${id}`)).body.version, 22);

    const events: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(
        'GET',
        `/v1/audit?entity=team/${id}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.status, 200);
      events.push(...(page.body.items ?? []));
      cursor = page.body.nextCursor as string | undefined;
    } while (cursor);
    assert.equal(events.length, 22, '1 create + 1 race winner + 20 sequential updates');
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: 22 }, (_, i) => 22 - i),
      'newest first',
    );

    const verify = await call('GET', `/v1/audit/verify?entity=team/${id}`);
    assert.equal(verify.body.entity, `team/${id}`);
    assert.equal(verify.body.intact, true, JSON.stringify(verify.body));
    assert.equal(verify.body.events, 22);
    assert.deepEqual(verify.body.chain, { intact: true, events: 22 });
    assert.equal((verify.body.head as { seq: number }).seq, 22, 'the head is the 22nd event');
  });

  it('records who made each change, with the request id, before and after', async () => {
    const id = unique('team');
    const created = await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id), as: 'ci' });
    assert.equal(created.status, 201);
    await call('DELETE', `/v1/teams/${id}`, { as: 'admin' });
    const { body } = await call('GET', `/v1/audit?entity=team/${id}`, { as: 'reader' });
    const [deleted, create] = body.items ?? [];
    assert.equal(deleted?.action, 'delete');
    assert.equal(create?.action, 'create');
    const actor = create?.actor as Record<string, string>;
    assert.match(actor.iss ?? '', /^https:\/\/127\.0\.0\.1:\d+/);
    assert.ok(actor.sub);
    assert.notEqual((deleted?.actor as Record<string, string> | undefined)?.clientId, actor.clientId);
    assert.equal(create?.before, null);
    assert.equal((create?.after as Record<string, unknown> | undefined)?.name, id);
    assert.equal(deleted?.after, null);
    assert.equal(typeof create?.requestId, 'string');
    assert.equal(deleted?.prevHash, create?.hash);
  });

  it('writes no audit event for a refused or unchanged change', async () => {
    const id = unique('team');
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id) });
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id) });
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, 'stale'), headers: { 'if-match': '"9"' } });
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, 'reader'), as: 'reader' });
    const { body } = await call('GET', `/v1/audit?entity=team/${id}`);
    assert.equal(body.items?.length, 1);
  });

  it('rejects a malformed entity parameter with a 400', async () => {
    for (const entity of ['', 'service', 'spaceship/x', 'service/Not Valid']) {
      const r = await call('GET', `/v1/audit?entity=${encodeURIComponent(entity)}`);
      assert.equal(r.status, 400, entity);
    }
  });
});
