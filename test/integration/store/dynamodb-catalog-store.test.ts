import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { verifyChain } from '#shared/audit/audit-chain';
import type { CatalogStore, ChangeContext } from '#shared/store/catalog-store';
import { StoreError } from '#shared/store/catalog-store';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { createIsolatedTables, type IsolatedTables } from '../../support/isolated-tables.ts';

const ctx: ChangeContext = { actor: { iss: 'https://issuer.test', sub: 'tester' }, requestId: 'req-1' };
const team = (id: string, name = id) => ({ id, name, contacts: {} });
const service = (id: string, teamId: string, extra: Record<string, unknown> = {}) => ({
  id,
  team: teamId,
  ...extra,
});

const rejectsWith = (code: StoreError['code']) => (error: unknown) => {
  assert.ok(error instanceof StoreError, `expected StoreError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return true;
};

describe('DynamoDB catalog store (DynamoDB Local)', () => {
  let tables: IsolatedTables;
  let store: CatalogStore;

  before(async () => {
    tables = await createIsolatedTables();
    store = makeDynamoCatalogStore({ ...tables, client: createDocumentClient(tables.client) });
  });

  it('creates, reads and replaces an entity, advancing version and timestamps', async () => {
    const created = await store.put('team', team('payments', 'Payments'), undefined, ctx);
    assert.equal(created.created, true);
    assert.equal(created.entity.version, 1);
    const later = { ...ctx, now: new Date(Date.now() + 1000) };
    const replaced = await store.put('team', team('payments', 'Payments & Billing'), 1, later);
    assert.equal(replaced.created, false);
    assert.equal(replaced.entity.version, 2);
    assert.equal(replaced.entity.createdAt, created.entity.createdAt);
    assert.notEqual(replaced.entity.updatedAt, created.entity.updatedAt);
    assert.equal((await store.get('team', 'payments'))?.doc.name as string, 'Payments & Billing');
  });

  it('writes nothing for an unchanged document', async () => {
    await store.put('team', team('quiet'), undefined, ctx);
    const again = await store.put('team', team('quiet'), undefined, ctx);
    assert.equal(again.changed, false);
    assert.equal(again.entity.version, 1);
    assert.equal((await store.auditChain('team/quiet')).length, 1);
  });

  it('refuses a stale version and create-only on an existing entity', async () => {
    await store.put('team', team('stale'), undefined, ctx);
    await store.put('team', team('stale', 'v2'), 1, ctx);
    await assert.rejects(store.put('team', team('stale', 'v3'), 1, ctx), rejectsWith('precondition-failed'));
    await assert.rejects(
      store.put('team', team('stale', 'v3'), 'absent', ctx),
      rejectsWith('precondition-failed'),
    );
    await assert.rejects(store.delete('team', 'stale', 1, ctx), rejectsWith('precondition-failed'));
  });

  it('refuses a reference to a missing entity and writes no audit event', async () => {
    await assert.rejects(store.put('service', service('orphan', 'nobody'), undefined, ctx), (error) => {
      rejectsWith('missing-reference')(error);
      assert.match((error as Error).message, /team\/nobody does not exist/);
      return true;
    });
    assert.equal(await store.get('service', 'orphan'), undefined);
    assert.deepEqual(await store.auditChain('service/orphan'), []);
  });

  it('refuses to delete a team that owns services, listing them, until they move', async () => {
    await store.put('team', team('owner'), undefined, ctx);
    await store.put('team', team('heir'), undefined, ctx);
    await store.put('service', service('svc-a', 'owner'), undefined, ctx);
    await store.put('service', service('svc-b', 'owner'), undefined, ctx);
    await assert.rejects(store.delete('team', 'owner', undefined, ctx), (error) => {
      rejectsWith('conflict')(error);
      assert.deepEqual((error as StoreError).details.dependents, ['service/svc-a', 'service/svc-b']);
      return true;
    });
    await store.put('service', service('svc-a', 'heir'), undefined, ctx);
    await store.delete('service', 'svc-b', undefined, ctx);
    await store.delete('team', 'owner', undefined, ctx);
    assert.equal(await store.get('team', 'owner'), undefined);
    await assert.rejects(store.delete('team', 'heir', undefined, ctx), rejectsWith('conflict'));
  });

  it('writes one chained audit event per change, with before and after', async () => {
    await store.put('team', team('audited'), undefined, ctx);
    await store.put('team', team('audited', 'Renamed'), undefined, { ...ctx, requestId: 'req-2' });
    await store.delete('team', 'audited', undefined, { ...ctx, requestId: 'req-3' });
    const chain = await store.auditChain('team/audited');
    assert.deepEqual(
      chain.map((e) => [e.seq, e.action, e.requestId]),
      [
        [1, 'create', 'req-1'],
        [2, 'update', 'req-2'],
        [3, 'delete', 'req-3'],
      ],
    );
    assert.equal(chain[1]?.before?.name, 'audited');
    assert.equal(chain[1]?.after?.name, 'Renamed');
    assert.equal(chain[2]?.after, null);
    assert.deepEqual(verifyChain(chain), { intact: true, events: 3 });
    const newest = await store.auditEvents('team/audited', { limit: 2 });
    assert.deepEqual(
      newest.items.map((e) => e.seq),
      [3, 2],
    );
    assert.ok(newest.nextCursor);
    const rest = await store.auditEvents('team/audited', { limit: 2, cursor: newest.nextCursor });
    assert.deepEqual(
      rest.items.map((e) => e.seq),
      [1],
    );
  });

  it('continues the chain of an entity deleted and created again', async () => {
    await store.put('team', team('phoenix'), undefined, ctx);
    await store.delete('team', 'phoenix', undefined, ctx);
    const reborn = await store.put('team', team('phoenix'), 'absent', ctx);
    assert.equal(reborn.entity.version, 1);
    const chain = await store.auditChain('team/phoenix');
    assert.deepEqual(
      chain.map((e) => e.action),
      ['create', 'delete', 'create'],
    );
    assert.equal(verifyChain(chain).intact, true);
  });

  it('cannot overwrite an existing audit event (conditional put)', async () => {
    await store.put('team', team('sealed'), undefined, ctx);
    const doc = createDocumentClient(tables.client);
    const key = { entity: 'team/sealed', seq: 1 };
    const original = (await doc.send(new GetCommand({ TableName: tables.auditTable, Key: key }))).Item;
    await assert.rejects(
      doc.send(
        new PutCommand({
          TableName: tables.auditTable,
          Item: { ...original, action: 'forged' },
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      ),
      /conditional request failed/i,
    );
  });

  it('paginates lists with an opaque cursor and rejects a forged one', async () => {
    for (const id of ['env-a', 'env-b', 'env-c']) {
      await store.put('environment', { id, cloud: { provider: 'aws' } }, undefined, ctx);
    }
    const first = await store.list('environment', { limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const second = await store.list('environment', { limit: 2, cursor: first.nextCursor });
    assert.deepEqual(
      [...first.items, ...second.items].map((e) => e.doc.id),
      ['env-a', 'env-b', 'env-c'],
    );
    await assert.rejects(
      store.list('environment', { limit: 2, cursor: 'not-a-cursor' }),
      rejectsWith('bad-cursor'),
    );
  });

  it('lets exactly one of many concurrent writers with the same version win', async () => {
    await store.put('team', team('contested'), undefined, ctx);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.put('team', team('contested', `writer ${i}`), 1, ctx)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const chain = await store.auditChain('team/contested');
    assert.equal(chain.length, 2);
    assert.equal(verifyChain(chain).intact, true);
  });

  it('serialises unconditional concurrent writers without losing an audit event', async () => {
    await store.put('team', team('busy'), undefined, ctx);
    await Promise.all(
      Array.from({ length: 4 }, (_, i) => store.put('team', team('busy', `n${i}`), undefined, ctx)),
    );
    const chain = await store.auditChain('team/busy');
    assert.equal(chain.length, 5);
    assert.equal((await store.get('team', 'busy'))?.version, 5);
    assert.equal(verifyChain(chain).intact, true);
  });
});
