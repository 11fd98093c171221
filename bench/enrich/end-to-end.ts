/**
 * End to end on the local stack: JSON log lines put on the input stream with
 * `PutRecords` (500 per call, as fast as one producer can), read back from the
 * output stream; latency is from just before the `PutRecords` call to the
 * moment the enriched record is read. Includes the local event source
 * mapping's and the reader's polling, as Lambda's would.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { localKinesisClient } from '#infra/local/local-state';
import { openStreamReader } from '#infra/local/stream-reader';
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
    const kinesis = localKinesisClient(state);
    const reader = await outputReader(kinesis, state.kinesis.outputStream);
    const line = (n: number) => Buffer.from(`{"service.name":"svc-${n % 50}","msg":"order ${n} paid"}\n`);

    // kinesis-mock (one single-threaded process) bounds everything: its own PutRecords rate, measured first.
    const rawStarted = Date.now();
    for (let i = 0; i < 2_000; i += 500)
      await putRecords(
        kinesis,
        state.kinesis.outputStream,
        Array.from({ length: 500 }, (_, j) => ({ partitionKey: `raw-${i + j}`, data: line(i + j) })),
      );
    const kinesisMockPutsPerSecond = 2_000 / ((Date.now() - rawStarted) / 1000);

    // Throughput: a burst of `count` records, drained.
    const burst = Array.from({ length: count }, (_, n) => ({ partitionKey: `burst-${n}`, data: line(n) }));
    const burstStarted = Date.now();
    const burstSent = new Map<string, number>();
    for (let i = 0; i < burst.length; i += 500) {
      const chunk = burst.slice(i, i + 500);
      for (const r of chunk) burstSent.set(r.partitionKey, Date.now());
      await putRecords(kinesis, state.kinesis.inputStream, chunk);
    }
    const drained = await reader.until(burstSent, 300_000);
    const recordsPerSecond = drained.received / ((drained.lastAt - burstStarted) / 1000);

    // Latency: a steady load well under the ceiling, 100 records every 500 ms for 15 s.
    const paced = new Map<string, number>();
    for (let tick = 0; tick < 30; tick++) {
      const chunk = Array.from({ length: 100 }, (_, j) => ({
        partitionKey: `paced-${tick}-${j}`,
        data: line(j),
      }));
      const now = Date.now();
      for (const r of chunk) paced.set(r.partitionKey, now);
      await putRecords(kinesis, state.kinesis.inputStream, chunk);
      await new Promise((r) => setTimeout(r, Math.max(0, now + 500 - Date.now())));
    }
    const steady = await reader.until(paced, 120_000);
    reader.stop();
    return {
      records: drained.received,
      sent: count,
      recordsPerSecond,
      kinesisMockPutsPerSecond,
      steadyRecordsPerSecond: 200,
      steadyReceived: steady.received,
      p50: steady.percentile(0.5),
      p99: steady.percentile(0.99),
    };
  } finally {
    await stop();
  }
}

/** Reads the output stream from now on and matches records to their send times. */
async function outputReader(kinesis: KinesisClient, streamName: string) {
  const reader = await openStreamReader(kinesis, streamName, 'LATEST');
  const arrivals = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const records = await reader.read();
      const now = Date.now();
      for (const record of records) arrivals.set(record.PartitionKey as string, now);
      if (records.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async until(sent: Map<string, number>, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      const done = () => [...sent.keys()].every((k) => arrivals.has(k));
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const latencies = [...sent]
        .filter(([k]) => arrivals.has(k))
        .map(([k, at]) => (arrivals.get(k) as number) - at);
      latencies.sort((a, b) => a - b);
      return {
        received: latencies.length,
        lastAt: Math.max(...[...sent.keys()].map((k) => arrivals.get(k) ?? 0)),
        percentile: (p: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0,
      };
    },
    stop() {
      running = false;
      return loop;
    },
  };
}
