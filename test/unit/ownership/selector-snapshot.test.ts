/**
 * The API's shared selector snapshot against DynamoDB Local: its TTL, a
 * write through this container seen at once, one load for concurrent callers,
 * the bound, and the claim check's fresh read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  observeServiceWrites,
  SelectorSnapshot,
  type SelectorSnapshotOptions,
} from '#shared/ownership/selector-snapshot';
import { paymentsCatalog } from '../../support/isolated-tables.ts';

const ctx = { actor: { iss: 'test', sub: 'snapshot' }, requestId: 'snapshot' } as never;
const owns = (value: string) => [{ attribute: 'faas.name', match: 'exact' as const, value }];

/** A catalog of `services` services (`svc-i` owning faas.name `fn-i`), and a second container's store. */
async function catalogOf(services: number) {
  const { client, table, store: elsewhere } = await paymentsCatalog(ctx);
  for (let i = 0; i < services; i++)
    await elsewhere.put(
      'service',
      { id: `svc-${i}`, team: 'payments', selectors: owns(`fn-${i}`) },
      undefined,
      ctx,
    );
  return { client, table, elsewhere };
}

/** A snapshot with a 5 s TTL that serves a copy up to 20 s old, on a clock the test moves. */
function snapshotOnClock(client: SelectorSnapshotOptions['client'], table: string) {
  const clock = { now: 0 };
  const snapshot = new SelectorSnapshot({
    client,
    table,
    ttlMs: 5_000,
    maxStaleMs: 20_000,
    now: () => clock.now,
  });
  return { snapshot, clock };
}

const owner = async (snapshot: SelectorSnapshot, fn: string) =>
  (await snapshot.matcher()).match({ 'faas.name': fn })?.service;

describe('selector snapshot', () => {
  it('answers from one load within its TTL, then from the old copy while one reload runs', async () => {
    const { client, table, elsewhere } = await catalogOf(3);
    const { snapshot, clock } = snapshotOnClock(client, table);
    assert.equal(await owner(snapshot, 'fn-1'), 'svc-1');
    await elsewhere.put(
      'service',
      { id: 'svc-new', team: 'payments', selectors: owns('fn-new') },
      undefined,
      ctx,
    );
    clock.now = 4_999;
    assert.equal(await owner(snapshot, 'fn-new'), undefined, 'within the TTL: the copy');
    assert.equal(snapshot.stats.loads, 1);
    clock.now = 5_000;
    assert.equal(await owner(snapshot, 'fn-new'), undefined, 'past the TTL: the old copy, at once');
    assert.equal(snapshot.stats.loads, 2, 'and one reload started');
    for (let waited = 0; (await owner(snapshot, 'fn-new')) !== 'svc-new'; waited += 10) {
      assert.ok(waited < 5_000, 'the reload lands');
      await sleep(10);
    }
    assert.equal(snapshot.stats.loads, 2);
  });

  it('makes callers wait for the load when the copy is older than maxStaleMs', async () => {
    const { client, table, elsewhere } = await catalogOf(1);
    const { snapshot, clock } = snapshotOnClock(client, table);
    assert.equal(await owner(snapshot, 'fn-0'), 'svc-0');
    await elsewhere.put('service', { id: 'svc-0', team: 'payments', selectors: owns('fn-moved') }, 1, ctx);
    clock.now = 20_000;
    assert.equal(
      await owner(snapshot, 'fn-moved'),
      'svc-0',
      'too old to serve: this call waited for the load',
    );
  });

  it('sees a write through this container at once, without a load', async () => {
    const { client, table, elsewhere } = await catalogOf(2);
    const snapshot = new SelectorSnapshot({ client, table, ttlMs: 60_000, now: () => 0 });
    const store = observeServiceWrites(elsewhere, snapshot);
    assert.equal(await owner(snapshot, 'fn-0'), 'svc-0');
    await store.put('service', { id: 'svc-0', team: 'payments', selectors: owns('fn-moved') }, 1, ctx);
    await store.put('service', { id: 'svc-2', team: 'payments', selectors: owns('fn-2') }, 'absent', ctx);
    await store.delete('service', 'svc-1', 1, ctx);
    assert.equal(await owner(snapshot, 'fn-0'), undefined);
    assert.equal(await owner(snapshot, 'fn-moved'), 'svc-0');
    assert.equal(await owner(snapshot, 'fn-2'), 'svc-2');
    assert.equal(await owner(snapshot, 'fn-1'), undefined);
    assert.equal(snapshot.stats.loads, 1);
  });

  it('keeps a local write that lands while a load is reading', async () => {
    const { client, table } = await catalogOf(1);
    const snapshot = new SelectorSnapshot({ client, table, ttlMs: 60_000, now: () => 0 });
    const loading = snapshot.matcher();
    // The load's Query is under way and cannot have read this write.
    snapshot.written({
      kind: 'service',
      doc: { id: 'svc-local', team: 'payments', selectors: owns('fn-local') },
      version: 1,
      createdAt: '',
      updatedAt: '',
    });
    assert.equal((await loading).match({ 'faas.name': 'fn-local' })?.service, 'svc-local');
    assert.equal(await owner(snapshot, 'fn-0'), 'svc-0');
    assert.equal(snapshot.stats.loads, 1);
  });

  it('loads once for any number of concurrent callers when stale', async () => {
    const { client, table } = await catalogOf(5);
    let now = 0;
    const snapshot = new SelectorSnapshot({ client, table, ttlMs: 1_000, now: () => now });
    const first = await Promise.all(Array.from({ length: 25 }, () => owner(snapshot, 'fn-4')));
    assert.deepEqual(new Set(first), new Set(['svc-4']));
    assert.equal(snapshot.stats.loads, 1);
    now = 1_000;
    await Promise.all(Array.from({ length: 25 }, () => owner(snapshot, 'fn-4')));
    assert.equal(snapshot.stats.loads, 2);
  });

  it('does not keep a catalog larger than its bound', async () => {
    const { client, table } = await catalogOf(4);
    const snapshot = new SelectorSnapshot({ client, table, ttlMs: 60_000, maxServices: 3, now: () => 0 });
    assert.equal(await owner(snapshot, 'fn-3'), 'svc-3', 'still answers');
    assert.equal(snapshot.size, 0);
    await owner(snapshot, 'fn-3');
    assert.equal(snapshot.stats.loads, 2, 'each call reads afresh');
    const within = new SelectorSnapshot({ client, table, ttlMs: 60_000, maxServices: 4, now: () => 0 });
    await owner(within, 'fn-3');
    assert.equal(within.size, 4);
  });

  it('gives the claim check what another container wrote a moment ago, re-reading only what moved', async () => {
    const { client, table, elsewhere } = await catalogOf(6);
    const snapshot = new SelectorSnapshot({ client, table, ttlMs: 60_000, now: () => 0 });
    assert.equal((await snapshot.fresh()).length, 6);
    assert.equal(snapshot.stats.reread, 0);
    await elsewhere.put(
      'service',
      { id: 'svc-new', team: 'payments', selectors: owns('fn-new') },
      undefined,
      ctx,
    );
    await elsewhere.put('service', { id: 'svc-0', team: 'payments' }, 1, ctx);
    await elsewhere.delete('service', 'svc-1', 1, ctx);
    // Deleted and created again: version 1 again, with another selector.
    await elsewhere.delete('service', 'svc-2', 1, ctx);
    await elsewhere.put(
      'service',
      { id: 'svc-2', team: 'payments', selectors: owns('fn-reborn') },
      'absent',
      ctx,
    );
    const fresh = await snapshot.fresh();
    assert.deepEqual(fresh.map((s) => s.id).sort(), ['svc-2', 'svc-3', 'svc-4', 'svc-5', 'svc-new']);
    assert.deepEqual(fresh.find((s) => s.id === 'svc-2')?.selectors, owns('fn-reborn'));
    assert.equal(
      snapshot.stats.reread,
      3,
      'the new, the changed and the re-created service; the deleted one is gone',
    );
    assert.equal(snapshot.stats.loads, 1);
    assert.equal(
      await owner(snapshot, 'fn-new'),
      'svc-new',
      'the fresh read refreshes the copy resolve uses',
    );
  });
});
