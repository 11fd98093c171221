/**
 * What a producer choosing its own attribute values costs, against DynamoDB
 * Local: a key DynamoDB cannot hold does not fail the batch's shared read;
 * thousands of distinct unknown services leave bounded maps and a bounded
 * number of writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { loadObservedSources, ObservedTracker } from '#shared/ownership/observed-sources';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { paymentsCatalog } from '../../support/isolated-tables.ts';

const ctx = { actor: { iss: 'test', sub: 'bounds' }, requestId: 'bounds' } as never;

async function catalogWithCheckout() {
  const { client, table, store } = await paymentsCatalog(ctx);
  await store.put('service', { id: 'checkout', team: 'payments' }, undefined, ctx);
  return { client, table };
}

const unknownServices = (n: number, tag = 'rogue') =>
  Array.from({ length: n }, (_, i) => ({ 'service.name': `${tag}-${i}` }));

describe('catalog cache: keys and size', () => {
  for (const [name, id] of [
    ['2,000 bytes', 'x'.repeat(2_000)],
    ['1,025 bytes of UTF-8 in 513 characters', `${'é'.repeat(512)}x`],
    ['a lone surrogate', 'svc-\ud800'],
  ] as const)
    it(`a service.name of ${name} is absent without asking, and its batch neighbour still resolves`, async () => {
      const { client, table } = await catalogWithCheckout();
      const cache = new CatalogCache({ client, table, ttlMs: 60_000 });
      await cache.prefetch([{ 'service.name': id }, { 'service.name': 'checkout' }]);
      const snapshot = cache.snapshot();
      assert.equal(cache.stats.failures, 0, 'no BatchGetItem failed');
      assert.equal((snapshot.service('checkout') as { team: string }).team, 'payments');
      assert.equal(snapshot.service(id), undefined, 'known absent, not unavailable');
    });

  it('3,000 distinct unknown services leave at most maxEntries (plus one load) cached', async () => {
    const { client, table } = await catalogWithCheckout();
    // Reads per interval are not what is measured here.
    const readBudget = { keys: 1_000_000, intervalMs: 1_000 };
    const cache = new CatalogCache({ client, table, ttlMs: 60_000, maxEntries: 1_000, readBudget });
    const all = unknownServices(3_000);
    for (let i = 0; i < all.length; i += 500) await cache.prefetch(all.slice(i, i + 500));
    assert.ok(cache.size.entries <= 1_000 + 500, `${cache.size.entries} entries`);
    await cache.prefetch([{ 'service.name': 'checkout' }]);
    assert.ok(cache.size.entries <= 1_000 + 2);
    assert.equal((cache.snapshot().service('checkout') as { team: string }).team, 'payments');
  });
});

/** The real client, counting the `BatchGetItem`s it sends. */
function countingBatchGets(client: DynamoDBDocumentClient) {
  const counted = { calls: 0, client: undefined as unknown as DynamoDBDocumentClient };
  counted.client = {
    send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      if (command instanceof BatchGetCommand) counted.calls++;
      return client.send(command as never);
    },
  } as DynamoDBDocumentClient;
  return counted;
}

describe('catalog cache: reads per interval', () => {
  it('100,000 distinct service.name values in one batch: at most 10 BatchGetItems; cached services still resolve', async (t) => {
    const { client, table } = await catalogWithCheckout();
    const counted = countingBatchGets(client);
    let now = 0;
    const cache = new CatalogCache({ client: counted.client, table, ttlMs: 60_000, now: () => now });
    await cache.prefetch([{ 'service.name': 'checkout' }]);
    const warm = counted.calls;

    now = 5_000;
    const started = performance.now();
    await cache.prefetch([...unknownServices(100_000), { 'service.name': 'checkout' }]);
    const ms = performance.now() - started;
    const calls = counted.calls - warm;
    t.diagnostic(`100,000 distinct names: ${calls} BatchGetItem calls, ${Math.round(ms)} ms`);
    assert.ok(calls <= 10, `${calls} BatchGetItem calls`);
    assert.equal(cache.stats.overBudget, 100_000 - 1_000, 'what the budget leaves is counted');
    const snapshot = cache.snapshot();
    assert.equal((snapshot.service('checkout') as { team: string }).team, 'payments');
    assert.equal((snapshot.team('payments') as { name: string }).name, 'Payments');
    assert.equal(snapshot.service('rogue-99999'), 'unavailable', 'past the budget: as if DynamoDB were down');

    const before = counted.calls;
    await cache.prefetch(unknownServices(10, 'later'));
    assert.equal(counted.calls, before, 'the interval is spent');
    assert.equal(cache.snapshot().service('later-0'), 'unavailable');
    now = 6_000;
    await cache.prefetch(unknownServices(10, 'later'));
    assert.equal(counted.calls, before + 1, 'the next interval reads again');
    assert.equal(cache.snapshot().service('later-0'), undefined, 'read, and known absent');
  });
});

describe('unowned tracker: entries and writes per interval', () => {
  it('3,000 distinct unknown services: at most 100 writes per TTL and 1,000 tallies, the rest counted', async () => {
    const { client, table } = await catalogWithCheckout();
    let now = 0;
    const tracker = new UnownedTracker({ client, table, ttlMs: 60_000, now: () => now });
    for (const source of unknownServices(3_000)) tracker.record(source);
    for (let i = 0; i < 5; i++) tracker.record({ 'service.name': 'rogue-999' });
    assert.equal(tracker.size, 1_000);
    assert.equal(tracker.stats.dropped, 2_000, 'sources past the bound are counted, not kept');

    const stored = async () => {
      const { Count } = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :u',
          ExpressionAttributeValues: { ':u': 'unowned' },
          Select: 'COUNT',
        }),
      );
      return Count;
    };
    assert.equal(await tracker.flush(), 100);
    assert.equal(await stored(), 100, 'one interval: 100 writes, not 3,000');
    const busiest = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :u',
        ExpressionAttributeValues: { ':u': 'unowned', ':n': 6 },
        FilterExpression: '#count = :n',
        ExpressionAttributeNames: { '#count': 'count' },
      }),
    );
    assert.equal(busiest.Items?.[0]?.attributes['service.name'], 'rogue-999', 'the busiest source first');
    assert.equal(await tracker.flush(), 0, 'the interval allowance is spent');
    now = 60_001;
    assert.equal(await tracker.flush(), 100);
    assert.equal(await stored(), 200);
    // Written tallies make room for new sources.
    tracker.record({ 'service.name': 'newcomer' });
    assert.ok(tracker.size <= 1_000);
    assert.equal(tracker.stats.dropped, 2_000);
  });

  it('an identifying value longer than DynamoDB takes is cut, so its write does not fail forever', async () => {
    const { client, table } = await catalogWithCheckout();
    const tracker = new UnownedTracker({ client, table, ttlMs: 60_000 });
    tracker.record({ 'service.name': 'y'.repeat(500_000) });
    assert.equal(await tracker.flush(), 1);
  });
});

describe('observed tracker: entries, writes per interval, one rewrite a day', () => {
  const owned = (n: number, tag = 'ns') =>
    Array.from({ length: n }, (_, i) => ({ 'k8s.namespace.name': `${tag}-${i}`, 'team.tag': 'x' }));

  it('3,000 distinct sources: 100 writes per interval and 1,000 tallies; a second container rewrites nothing within a day', async () => {
    const { client, table } = await catalogWithCheckout();
    let now = 1_000_000;
    const options = { client, table, intervalMs: 60_000, now: () => now, maxSources: 1_000 };
    const tracker = new ObservedTracker(options);
    for (const source of owned(3_000)) tracker.record(source, 'checkout');
    assert.equal(tracker.size, 1_000);
    assert.equal(tracker.stats.dropped, 2_000);
    assert.equal(await tracker.flush(), 100);
    assert.equal(await tracker.flush(), 0, 'the interval allowance is spent');
    const { sources } = await loadObservedSources(client, table, { now });
    assert.equal(sources.length, 100);
    assert.deepEqual(
      sources[0]?.attributes['team.tag'],
      'x',
      'selector attributes are kept with the identifying ones',
    );

    const writes = async () => {
      const { Items } = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :o',
          ExpressionAttributeValues: { ':o': 'observed' },
        }),
      );
      return new Map((Items ?? []).map((item) => [item.sk as string, item.writtenAt as number]));
    };
    const first = await writes();
    now += 60_000;
    const other = new ObservedTracker(options);
    for (const source of owned(100)) other.record(source, 'checkout');
    await other.flush();
    assert.deepEqual(await writes(), first, 'written less than a day ago: left as it is');

    other.record({ 'k8s.namespace.name': 'ns-0', 'team.tag': 'x' }, 'payments');
    now += 60_000;
    await other.flush();
    const moved = await loadObservedSources(client, table, { now });
    assert.equal(
      moved.sources.filter((s) => s.owner === 'payments').length,
      1,
      'a new owner is written at once',
    );

    now += 24 * 60 * 60 * 1000;
    other.record({ 'k8s.namespace.name': 'ns-1', 'team.tag': 'x' }, 'checkout');
    await other.flush();
    const rewritten = [...(await writes())].filter(([sk, at]) => first.get(sk) !== at);
    assert.equal(rewritten.length, 2, 'a day later the seen source is rewritten (and the moved one was)');

    now += 8 * 24 * 60 * 60 * 1000;
    assert.equal(
      (await loadObservedSources(client, table, { now })).sources.length,
      0,
      'expired after a week',
    );
  });

  it('the API reads at most its cap of observed sources, and says so', async () => {
    const { client, table } = await catalogWithCheckout();
    const tracker = new ObservedTracker({ client, table, intervalMs: 60_000, maxWritesPerInterval: 50 });
    for (const source of owned(50)) tracker.record(source, 'checkout');
    assert.equal(await tracker.flush(), 50);
    const capped = await loadObservedSources(client, table, { max: 20 });
    assert.deepEqual([capped.sources.length, capped.truncated], [20, true]);
    const all = await loadObservedSources(client, table, { max: 50 });
    assert.deepEqual([all.sources.length, all.truncated], [50, false]);
  });
});
