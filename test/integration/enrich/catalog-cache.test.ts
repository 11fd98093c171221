/**
 * The enricher's catalog cache against DynamoDB Local: reads per TTL,
 * `UnprocessedKeys`, and what an unreachable catalog costs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { paymentsCatalog } from '../../support/isolated-tables.ts';

const ctx = { actor: { iss: 'test', sub: 'cache' }, requestId: 'cache' } as never;

async function catalogOf(services: number) {
  const { client, table, store } = await paymentsCatalog(ctx);
  for (let i = 0; i < services; i++)
    await store.put('service', { id: `svc-${i}`, team: 'payments' }, undefined, ctx);
  return { client, table };
}

const sources = (n: number) => Array.from({ length: n }, (_, i) => ({ 'service.name': `svc-${i}` }));

describe('catalog cache', () => {
  it('reads each service and team once per TTL, then again after it', async () => {
    const { client, table } = await catalogOf(3);
    let now = 0;
    const cache = new CatalogCache({ client, table, ttlMs: 60_000, now: () => now });
    await cache.prefetch(sources(3));
    // One selector query, three services, one team.
    assert.equal(cache.stats.catalogReads, 5);
    assert.equal(cache.snapshot().team('payments') !== undefined, true);
    await cache.prefetch([...sources(3), ...sources(3)]);
    assert.equal(cache.stats.catalogReads, 5, 'warm: no reads within the TTL');
    now = 60_001;
    await cache.prefetch(sources(1));
    assert.equal(cache.stats.catalogReads, 5 + 1 + 1 + 1, 'selectors, the service and its team again');
  });

  it('retries the keys BatchGetItem leaves unprocessed', async () => {
    const { client, table } = await catalogOf(4);
    // DynamoDB Local never throttles, so it never returns UnprocessedKeys: this
    // wrapper takes the second half of the first BatchGetItem's answer back as unprocessed.
    let first = true;
    const flaky = {
      send: async (command: { constructor: { name: string } }) => {
        const result = await client.send(command as never);
        if (command.constructor.name !== 'BatchGetCommand' || !first) return result;
        first = false;
        const items =
          (result as unknown as { Responses: Record<string, { pk: string; sk: string }[]> }).Responses[
            table
          ] ?? [];
        const kept = items.slice(0, 2);
        const unprocessed = items.slice(2).map(({ pk, sk }) => ({ pk, sk }));
        return { Responses: { [table]: kept }, UnprocessedKeys: { [table]: { Keys: unprocessed } } };
      },
    } as unknown as DynamoDBDocumentClient;
    const cache = new CatalogCache({ client: flaky, table, ttlMs: 60_000, sleep: async () => {} });
    await cache.prefetch(sources(4));
    const snapshot = cache.snapshot();
    for (let i = 0; i < 4; i++)
      assert.equal((snapshot.service(`svc-${i}`) as { team: string }).team, 'payments');
    assert.equal(cache.stats.failures, 0);
  });

  it('an unreachable catalog is unavailable, and its selectors are not retried within the pause', async () => {
    const client = unreachable();
    let now = 0;
    const cache = new CatalogCache({
      client,
      table: 'nowhere',
      ttlMs: 60_000,
      retryAfterMs: 1_000,
      now: () => now,
    });
    assert.equal(await cache.relevantAttributes(), undefined);
    await cache.prefetch(sources(1));
    assert.equal(cache.snapshot().selectors(), 'unavailable');
    assert.equal(cache.snapshot().service('svc-0'), 'unavailable');
    assert.equal(
      cache.stats.failures,
      2,
      'one selector query, one BatchGetItem; the second selector load waits',
    );
    now = 1_001;
    await cache.relevantAttributes();
    assert.equal(cache.stats.failures, 3, 'retried after the pause');
  });

  it("one invocation's prefetch does not unmark what another found unavailable (a shared cache)", async () => {
    const cache = new CatalogCache({ client: unreachable(), table: 'nowhere', ttlMs: 60_000 });
    await cache.prefetch(sources(1));
    const first = cache.snapshot();
    await cache.prefetch([{ 'service.name': 'svc-other' }]);
    assert.equal(first.service('svc-0'), 'unavailable', 'not taken for "not in the catalog" (unowned)');
    assert.equal(cache.snapshot().service('svc-other'), 'unavailable');
  });
});

/** A real connection refused: nothing listens on port 9. */
function unreachable(): DynamoDBDocumentClient {
  return createDocumentClient(
    new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    }),
  );
}
