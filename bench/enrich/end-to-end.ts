/**
 * End to end on the local stack: JSON log lines put on the input stream with
 * `PutRecords` (500 per call, as fast as one producer can), read back from the
 * output stream; latency is from just before the `PutRecords` call to the
 * moment the enriched record is read. Includes the local event source
 * mapping's and the reader's polling, as Lambda's would.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '#shared/aws/kinesis-client';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { putRecords } from '../../test/support/kinesis-streams.ts';
import { startStackProcess } from '../support/stack-process.ts';
import { seedBenchCatalog } from './batches.ts';

export async function endToEnd(count: number) {
  const { state, stop } = await startStackProcess({ PORTOLAN_BATCH_SIZE: '10000' });
  try {
    const dynamo = new DynamoDBClient({
      endpoint: state.dynamodb.endpoint,
      region: state.region,
      credentials: state.aws,
    });
    await seedBenchCatalog(
      makeDynamoCatalogStore({
        client: createDocumentClient(dynamo),
        catalogTable: state.dynamodb.tables.catalog,
        auditTable: state.dynamodb.tables.audit,
      }),
    );
    const kinesis = createKinesisClient({
      endpoint: state.kinesis.endpoint,
      region: state.region,
      credentials: state.aws,
    });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const { Shards = [] } = await kinesis.send(
      new ListShardsCommand({ StreamName: state.kinesis.outputStream }),
    );
    const iterators = await Promise.all(
      Shards.map(
        async (shard) =>
          (
            await kinesis.send(
              new GetShardIteratorCommand({
                StreamName: state.kinesis.outputStream,
                ShardId: shard.ShardId,
                ShardIteratorType: 'LATEST',
              }),
            )
          ).ShardIterator,
      ),
    );
    let firstSent = 0;
    let lastReceived = 0;
    const reader = (async () => {
      const deadline = Date.now() + 300_000;
      while (latencies.length < count && Date.now() < deadline) {
        let got = 0;
        for (const [i, iterator] of iterators.entries()) {
          if (!iterator) continue;
          const result = await kinesis.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
          );
          iterators[i] = result.NextShardIterator;
          const now = Date.now();
          for (const record of result.Records ?? []) {
            const sent = sentAt.get(record.PartitionKey as string);
            if (sent === undefined) continue;
            latencies.push(now - sent);
            lastReceived = now;
          }
          got += result.Records?.length ?? 0;
        }
        if (got === 0) await new Promise((r) => setTimeout(r, 50));
      }
    })();
    firstSent = Date.now();
    for (let i = 0; i < count; i += 500) {
      const chunk = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
        partitionKey: `e2e-${i + j}`,
        data: Buffer.from(`{"service.name":"svc-${(i + j) % 50}","msg":"order ${i + j} paid"}\n`),
      }));
      const now = Date.now();
      for (const r of chunk) sentAt.set(r.partitionKey, now);
      await putRecords(kinesis, state.kinesis.inputStream, chunk);
    }
    await reader;
    latencies.sort((a, b) => a - b);
    const at = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    return {
      records: latencies.length,
      sent: count,
      recordsPerSecond: latencies.length / ((lastReceived - firstSent) / 1000),
      p50: at(0.5),
      p99: at(0.99),
    };
  } finally {
    await stop();
  }
}
