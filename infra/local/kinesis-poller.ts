/**
 * What Lambda's Kinesis event source mapping does, locally: reads every shard,
 * invokes the handler with real `KinesisStreamEvent` batches (up to 10,000
 * records / 6 MB), honours partial batch responses by re-reading from the
 * lowest failed sequence number, retries a failing batch with backoff, and
 * checkpoints. A batch that exhausts its retries is recorded (shard and
 * sequence range, like the on-failure destination) and skipped.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { lambdaContext } from '#infra/local/lambda-context';

export type KinesisHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

export interface KinesisPollerOptions {
  client: KinesisClient;
  streamName: string;
  region: string;
  handler: KinesisHandler;
  /** Records per invocation. @default 10000 (Lambda's maximum for Kinesis) */
  batchSize?: number;
  /** Payload bytes per invocation. @default 6 MB (Lambda's invocation payload limit) */
  maxBatchBytes?: number;
  /** Retries of a failing batch before it is recorded and skipped. @default 10 */
  maxRetries?: number;
  pollIntervalMs?: number;
  /** Where per-shard checkpoints persist; in memory only when absent. */
  checkpointFile?: string;
  /** Where exhausted batches are recorded (JSON lines), like an on-failure destination. */
  failedBatchesFile?: string;
  log?: (line: string) => void;
}

export interface KinesisPoller {
  stop(): Promise<void>;
  readonly stats: { invocations: number; records: number; retries: number; exhaustedBatches: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startKinesisPoller(options: KinesisPollerOptions): KinesisPoller {
  const batchSize = Math.min(options.batchSize ?? 10_000, 10_000);
  const maxBatchBytes = options.maxBatchBytes ?? 6 * 1024 * 1024;
  const maxRetries = options.maxRetries ?? 10;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const checkpoints: Record<string, string> =
    options.checkpointFile && existsSync(options.checkpointFile)
      ? JSON.parse(readFileSync(options.checkpointFile, 'utf8'))
      : {};
  const stats = { invocations: 0, records: 0, retries: 0, exhaustedBatches: 0 };
  const streamArn = `arn:aws:kinesis:${options.region}:000000000000:stream/${options.streamName}`;
  let running = true;

  const saveCheckpoint = (shardId: string, sequenceNumber: string) => {
    checkpoints[shardId] = sequenceNumber;
    if (options.checkpointFile) writeFileSync(options.checkpointFile, JSON.stringify(checkpoints));
  };

  const iteratorFor = async (shardId: string, at?: string) => {
    const checkpoint = checkpoints[shardId];
    const request = at
      ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, StartingSequenceNumber: at }
      : checkpoint
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: checkpoint }
        : { ShardIteratorType: 'TRIM_HORIZON' as const };
    const result = await options.client.send(
      new GetShardIteratorCommand({ StreamName: options.streamName, ShardId: shardId, ...request }),
    );
    return result.ShardIterator;
  };

  const toEvent = (shardId: string, records: _Record[]): KinesisStreamEvent => ({
    Records: records.map(
      (r): KinesisStreamRecord => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.PartitionKey ?? '',
          sequenceNumber: r.SequenceNumber ?? '',
          data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${r.SequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/portolan-enrich',
        awsRegion: options.region,
        eventSourceARN: streamArn,
      }),
    ),
  });

  async function pollShard(shardId: string) {
    let iterator = await iteratorFor(shardId);
    let buffer: _Record[] = [];
    let attempts = 0;
    while (running && iterator) {
      if (buffer.length < batchSize) {
        const result = await options.client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
        );
        buffer.push(...(result.Records ?? []));
        iterator = result.NextShardIterator;
        if (
          (result.Records ?? []).length > 0 &&
          buffer.length < batchSize &&
          (result.MillisBehindLatest ?? 0) > 0
        )
          continue;
      }
      if (buffer.length === 0) {
        await sleep(pollIntervalMs);
        continue;
      }
      let bytes = 0;
      let take = 0;
      while (take < buffer.length && take < batchSize) {
        const size = (buffer[take]?.Data?.length ?? 0) + (buffer[take]?.PartitionKey?.length ?? 0);
        if (take > 0 && bytes + size > maxBatchBytes) break;
        bytes += size;
        take++;
      }
      const batch = buffer.slice(0, take);
      let failedAt: string | undefined;
      try {
        stats.invocations++;
        const response = await options.handler(
          toEvent(shardId, batch),
          lambdaContext('portolan-enrich', 120_000, options.region),
        );
        const failures = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
        if (failures.length) failedAt = failures.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0];
      } catch (error) {
        options.log?.(`enrich handler failed on ${shardId}: ${(error as Error).message}`);
        failedAt = batch[0]?.SequenceNumber;
      }
      if (!failedAt) {
        stats.records += batch.length;
        attempts = 0;
        buffer = buffer.slice(take);
        saveCheckpoint(shardId, batch[batch.length - 1]?.SequenceNumber as string);
        continue;
      }
      // Everything before the first failure is done; retry from it, as Lambda does.
      const done = batch.filter((r) => BigInt(r.SequenceNumber ?? 0) < BigInt(failedAt));
      stats.records += done.length;
      if (done.length) saveCheckpoint(shardId, done[done.length - 1]?.SequenceNumber as string);
      attempts++;
      if (attempts > maxRetries) {
        stats.exhaustedBatches++;
        const failedRecords = batch.filter((r) => BigInt(r.SequenceNumber ?? 0) >= BigInt(failedAt));
        const arrival = (r: _Record | undefined) => r?.ApproximateArrivalTimestamp?.toISOString();
        // The shape Lambda sends to an on-failure destination, so one replay tool reads both.
        const failedBatch = {
          requestContext: {
            requestId: randomUUID(),
            functionArn: `arn:aws:lambda:${options.region}:000000000000:function:portolan-enrich`,
            condition: 'RetryAttemptsExhausted',
            approximateInvokeCount: attempts,
          },
          responseContext: { statusCode: 200, executedVersion: '$LATEST' },
          version: '1.0',
          timestamp: new Date().toISOString(),
          KinesisBatchInfo: {
            shardId,
            startSequenceNumber: failedAt,
            endSequenceNumber: batch[batch.length - 1]?.SequenceNumber,
            approximateArrivalOfFirstRecord: arrival(failedRecords[0]),
            approximateArrivalOfLastRecord: arrival(failedRecords[failedRecords.length - 1]),
            batchSize: failedRecords.length,
            streamArn,
          },
        };
        options.log?.(`batch exhausted its retries, recorded for replay: ${JSON.stringify(failedBatch)}`);
        if (options.failedBatchesFile)
          appendFileSync(options.failedBatchesFile, `${JSON.stringify(failedBatch)}\n`);
        saveCheckpoint(shardId, batch[batch.length - 1]?.SequenceNumber as string);
        buffer = buffer.slice(take);
        attempts = 0;
        continue;
      }
      stats.retries++;
      await sleep(Math.min(5_000, 100 * 2 ** (attempts - 1)));
      buffer = [];
      iterator = await iteratorFor(shardId, failedAt);
    }
  }

  const loops = (async () => {
    const shards = await options.client.send(new ListShardsCommand({ StreamName: options.streamName }));
    await Promise.all(
      (shards.Shards ?? []).map(async (shard) => {
        while (running) {
          try {
            await pollShard(shard.ShardId as string);
          } catch (error) {
            if (!running) return;
            options.log?.(`poller: ${shard.ShardId}: ${(error as Error).message}; retrying`);
            await sleep(1_000);
          }
        }
      }),
    );
  })();

  return {
    stats,
    async stop() {
      running = false;
      await loops.catch(() => undefined);
    },
  };
}
