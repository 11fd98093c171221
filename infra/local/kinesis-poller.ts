/**
 * What Lambda's Kinesis event source mapping does, locally: reads every shard,
 * invokes the handler with real `KinesisStreamEvent` batches (up to 10,000
 * records / 6 MB), honours partial batch responses by re-reading from the
 * lowest failed sequence number, splits a batch whose invocation fails in two
 * (`bisectBatchOnError`), retries a failing batch with backoff, and
 * checkpoints. A batch that exhausts its retries is recorded (shard and
 * sequence range, like the on-failure destination) and skipped.
 *
 * A checkpoint is written only once what the handler wrote for the batch is
 * durable (`durableBefore`: the emulator has persisted everything it
 * acknowledged before that time), so a crash of the emulator re-delivers
 * instead of losing; a checkpoint the stream no longer holds is resumed from
 * the time of its record, once, with a log line saying what may come again.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { writeFileAtomic } from '#infra/local/atomic-file';
import { lambdaContext } from '#infra/local/lambda-context';
import { fullJitterDelay } from '#shared/retry/retry-with-backoff';

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
  /**
   * Split a batch whose invocation fails in two and retry each half on its own, down to
   * single records, as the deployed mapping does; splits are not counted as retries.
   * @default false
   */
  bisectBatchOnError?: boolean;
  pollIntervalMs?: number;
  /** Where per-shard checkpoints persist; in memory only when absent. */
  checkpointFile?: string;
  /**
   * A time before which everything the streams acknowledged is durable (persisted by
   * the emulator); a checkpoint waits until the batch it covers finished before it.
   * @default () => Infinity (nothing to wait for)
   */
  durableBefore?: () => number;
  /** Where exhausted batches are recorded (JSON lines), like an on-failure destination. */
  failedBatchesFile?: string;
  log?: (line: string) => void;
}

export interface KinesisPoller {
  /**
   * Stops reading; an invocation in flight may finish (its checkpoint then waits like
   * any other) for up to `graceMs`, after which it is abandoned, never checkpointed.
   */
  stop(graceMs?: number): Promise<void>;
  /** Writes every checkpoint whose batch is now durable (called after the emulator stopped). */
  commit(): void;
  readonly stats: {
    invocations: number;
    records: number;
    retries: number;
    bisections: number;
    exhaustedBatches: number;
    recoveredCheckpoints: number;
  };
}

/** Where a shard was left: the last record done, and when it arrived (to resume by time if it is gone). */
export interface ShardPosition {
  sequenceNumber?: string;
  /** Epoch milliseconds of the record's arrival. */
  arrival?: number;
}

const isUnresolvable = (error: unknown) =>
  /Unable to find record with provided SequenceNumber|InvalidArgument/i.test(
    `${(error as Error)?.name} ${(error as Error)?.message}`,
  );

function readCheckpoints(file: string | undefined): Record<string, ShardPosition> {
  if (!file || !existsSync(file)) return {};
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | ShardPosition>;
  // Earlier versions kept the bare sequence number.
  return Object.fromEntries(
    Object.entries(saved).map(([shard, at]) => [shard, typeof at === 'string' ? { sequenceNumber: at } : at]),
  );
}

export function startKinesisPoller(options: KinesisPollerOptions): KinesisPoller {
  const batchSize = Math.min(options.batchSize ?? 10_000, 10_000);
  const maxBatchBytes = options.maxBatchBytes ?? 6 * 1024 * 1024;
  const maxRetries = options.maxRetries ?? 10;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const durableBefore = options.durableBefore ?? (() => Number.POSITIVE_INFINITY);
  const log = options.log ?? (() => undefined);
  /** What the checkpoint file says: durable positions only. */
  const committed = readCheckpoints(options.checkpointFile);
  /** Where each shard's reading goes on from in this run, durable or not. */
  const positions: Record<string, ShardPosition> = { ...committed };
  /** Positions done but not yet durable, oldest first, with the time their batch finished. */
  const pending: Record<string, { position: ShardPosition; doneAt: number }[]> = {};
  const stats = {
    invocations: 0,
    records: 0,
    retries: 0,
    bisections: 0,
    exhaustedBatches: 0,
    recoveredCheckpoints: 0,
  };
  const streamArn = `arn:aws:kinesis:${options.region}:000000000000:stream/${options.streamName}`;
  let running = true;
  let abandoned = false;
  const stopping = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  const commit = () => {
    const before = durableBefore();
    let changed = false;
    for (const [shardId, queue] of Object.entries(pending)) {
      let last: ShardPosition | undefined;
      while (queue.length && (queue[0]?.doneAt ?? Number.POSITIVE_INFINITY) < before)
        last = queue.shift()?.position;
      if (last) {
        committed[shardId] = last;
        changed = true;
      }
    }
    if (changed && options.checkpointFile) writeFileAtomic(options.checkpointFile, JSON.stringify(committed));
  };

  const advance = (shardId: string, record: _Record | undefined) => {
    if (!record?.SequenceNumber || abandoned) return;
    const position = {
      sequenceNumber: record.SequenceNumber,
      arrival: record.ApproximateArrivalTimestamp?.getTime(),
    };
    positions[shardId] = position;
    pending[shardId] = [...(pending[shardId] ?? []), { position, doneAt: Date.now() }];
    commit();
  };

  const reported = new Set<string>();
  const iteratorFor = async (shardId: string, at?: string) => {
    const position = positions[shardId];
    const request: Omit<GetShardIteratorCommandInput, 'ShardId'> = at
      ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: at }
      : position?.sequenceNumber
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: position.sequenceNumber }
        : position?.arrival !== undefined
          ? { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(position.arrival) }
          : { ShardIteratorType: 'TRIM_HORIZON' };
    try {
      const result = await options.client.send(
        new GetShardIteratorCommand({ StreamName: options.streamName, ShardId: shardId, ...request }),
      );
      return result.ShardIterator;
    } catch (error) {
      if (at || !position?.sequenceNumber || !isUnresolvable(error)) throw error;
      // The stream lost the record (its emulator state is older than the checkpoint, or
      // was set aside): resume from the time that record arrived, and say so once.
      const key = `${shardId}@${position.sequenceNumber}`;
      if (!reported.has(key)) {
        reported.add(key);
        stats.recoveredCheckpoints++;
        const since =
          position.arrival === undefined
            ? 'the oldest record it holds: every record still in the shard may be delivered again'
            : `records that arrived from ${new Date(position.arrival).toISOString()} on: those may be delivered again`;
        log(
          `poller: checkpoint ${position.sequenceNumber} is not in ${options.streamName}/${shardId} (the emulator's state is older than the checkpoint); resuming at ${since}`,
        );
      }
      positions[shardId] = { arrival: position.arrival };
      return iteratorFor(shardId);
    }
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

  const seq = (r: _Record | undefined) => BigInt(r?.SequenceNumber ?? 0);

  /** One shard's reading: records read but not yet handled, and the state of a failing batch. */
  interface ShardReading {
    shardId: string;
    iterator: string | undefined;
    buffer: _Record[];
    /** Failed invocations of the batch at the head of the buffer. */
    attempts: number;
    /** While a failed batch is being split: the size of its parts, and its last record. */
    split?: { size: number; last: bigint };
  }

  /** Reads on unless a full batch is buffered; true while more records are waiting to fill it. */
  async function readMore(shard: ShardReading): Promise<boolean> {
    if (shard.buffer.length >= batchSize) return false;
    const result = await options.client.send(
      new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 10_000 }),
    );
    const records = result.Records ?? [];
    shard.buffer.push(...records);
    shard.iterator = result.NextShardIterator;
    return records.length > 0 && shard.buffer.length < batchSize && (result.MillisBehindLatest ?? 0) > 0;
  }

  /** The next invocation's records: up to the batch size (a split's part size) and the payload limit. */
  function nextBatch(shard: ShardReading): _Record[] {
    const { buffer } = shard;
    if (shard.split && seq(buffer[0]) > shard.split.last) shard.split = undefined;
    const { split } = shard;
    const limit = split ? split.size : batchSize;
    let bytes = 0;
    let take = 0;
    while (take < buffer.length && take < limit && (!split || seq(buffer[take]) <= split.last)) {
      const size = (buffer[take]?.Data?.length ?? 0) + (buffer[take]?.PartitionKey?.length ?? 0);
      if (take > 0 && bytes + size > maxBatchBytes) break;
      bytes += size;
      take++;
    }
    return buffer.slice(0, take);
  }

  const bisected = Symbol('bisected');

  /** Invokes the handler: the record to retry from, `bisected` when the batch was split, or nothing. */
  async function invoke(
    shard: ShardReading,
    batch: _Record[],
  ): Promise<string | undefined | typeof bisected> {
    try {
      stats.invocations++;
      const response = await options.handler(
        toEvent(shard.shardId, batch),
        lambdaContext('portolan-enrich', 120_000, options.region),
      );
      const failures = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      return failures.length ? failures.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0] : undefined;
    } catch (error) {
      log(`enrich handler failed on ${shard.shardId}: ${(error as Error).message}`);
      if (options.bisectBatchOnError && batch.length > 1) {
        // Each half on its own, at once; only a batch that cannot be split counts retries.
        stats.bisections++;
        shard.split = { size: Math.ceil(batch.length / 2), last: seq(batch[batch.length - 1]) };
        return bisected;
      }
      return batch[0]?.SequenceNumber;
    }
  }

  function completed(shard: ShardReading, batch: _Record[]) {
    stats.records += batch.length;
    shard.attempts = 0;
    shard.buffer = shard.buffer.slice(batch.length);
    advance(shard.shardId, batch[batch.length - 1]);
  }

  /**
   * Everything before the first failure is done; retry from it, as Lambda does, after a
   * backoff, or record the batch once it has exhausted its retries. False once stopped.
   */
  async function retryFrom(shard: ShardReading, batch: _Record[], failedAt: string): Promise<boolean> {
    const done = batch.filter((r) => seq(r) < BigInt(failedAt));
    stats.records += done.length;
    if (done.length) advance(shard.shardId, done[done.length - 1]);
    const attempts = ++shard.attempts;
    if (attempts > maxRetries) {
      recordExhausted(shard.shardId, batch, failedAt, attempts);
      advance(shard.shardId, batch[batch.length - 1]);
      shard.buffer = shard.buffer.slice(batch.length);
      shard.attempts = 0;
      return true;
    }
    stats.retries++;
    await sleep(fullJitterDelay(attempts, { baseMs: 100, capMs: 5_000 }));
    if (!running) return false;
    shard.buffer = [];
    shard.iterator = await iteratorFor(shard.shardId, failedAt);
    return true;
  }

  async function pollShard(shardId: string) {
    const shard: ShardReading = { shardId, iterator: await iteratorFor(shardId), buffer: [], attempts: 0 };
    while (running && shard.iterator) {
      if (await readMore(shard)) continue;
      if (!running) break;
      if (shard.buffer.length === 0) {
        commit();
        await sleep(pollIntervalMs);
        continue;
      }
      const batch = nextBatch(shard);
      const failedAt = await invoke(shard, batch);
      if (failedAt === bisected) continue;
      if (!failedAt) completed(shard, batch);
      else if (!(await retryFrom(shard, batch, failedAt))) break;
    }
  }

  function recordExhausted(shardId: string, batch: _Record[], failedAt: string, attempts: number) {
    stats.exhaustedBatches++;
    const failedRecords = batch.filter((r) => seq(r) >= BigInt(failedAt));
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
    log(`batch exhausted its retries, recorded for replay: ${JSON.stringify(failedBatch)}`);
    if (options.failedBatchesFile)
      appendFileSync(options.failedBatchesFile, `${JSON.stringify(failedBatch)}\n`);
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
            log(`poller: ${shard.ShardId}: ${(error as Error).message}; retrying`);
            await sleep(1_000);
          }
        }
      }),
    );
  })();

  return {
    stats,
    commit,
    async stop(graceMs = 15_000) {
      running = false;
      stopping.abort();
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'abandoned'>((resolve) => {
        timer = setTimeout(() => resolve('abandoned'), graceMs);
      });
      const outcome = await Promise.race([loops.catch(() => undefined), gaveUp]);
      clearTimeout(timer);
      if (outcome === 'abandoned') {
        abandoned = true;
        log(
          `poller: an invocation still running after ${graceMs / 1000}s was abandoned; its batch will be read again`,
        );
      }
      commit();
    },
  };
}
