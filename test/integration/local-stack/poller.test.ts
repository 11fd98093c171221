/**
 * The local event source mapping under faults, on streams of its own in the
 * stack's kinesis-mock: a checkpoint the stream no longer holds, a record that
 * fails every batch it is in, an emulator that has not persisted yet, a stop
 * while a batch is in flight.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import {
  type KinesisPoller,
  type KinesisPollerOptions,
  startKinesisPoller,
} from '#infra/local/kinesis-poller';
import { waitUntil } from '#infra/local/ports';
import { kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import { readLocalStack } from '../../support/local-stack.ts';

const state = readLocalStack();
const kinesis = kinesisFor(state);
const dir = mkdtempSync(join(tmpdir(), 'portolan-poller-'));
const pollers: KinesisPoller[] = [];
after(async () => {
  for (const poller of pollers) await poller.stop(1_000);
  rmSync(dir, { recursive: true, force: true });
});

async function oneShardStream() {
  const name = `poller-${randomUUID().slice(0, 8)}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitUntil(`stream ${name}`, async () => {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') throw new Error('not active yet');
  });
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: name }));
  return { name, shardId: Shards[0]?.ShardId as string };
}

const keysOf = (event: KinesisStreamEvent) => event.Records.map((r) => r.kinesis.partitionKey);
const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ partitionKey: `${prefix}-${i}`, data: Buffer.from(`record ${i}`) }));

function poll(streamName: string, options: Partial<KinesisPollerOptions>) {
  const poller = startKinesisPoller({
    client: kinesis,
    streamName,
    region: state.region,
    handler: async () => undefined,
    pollIntervalMs: 50,
    ...options,
  });
  pollers.push(poller);
  return poller;
}

const until = (what: string, condition: () => boolean, timeoutMs = 20_000) =>
  waitUntil(
    what,
    async () => {
      if (!condition()) throw new Error('not yet');
    },
    timeoutMs,
  );

describe('local poller', { timeout: 60_000 }, () => {
  it('resumes once, from its time, at a checkpoint the stream no longer holds (no endless retry)', async () => {
    const { name, shardId } = await oneShardStream();
    const before = await putRecords(kinesis, name, records('before', 5));
    await new Promise((r) => setTimeout(r, 1_100));
    const checkpointTime = Date.now();
    await new Promise((r) => setTimeout(r, 1_100));
    await putRecords(kinesis, name, records('after', 5));
    // What a crash leaves: a checkpoint naming a record the emulator's older state never had.
    const lost = `${(before[4] as string).slice(0, -1)}${(Number((before[4] as string).slice(-1)) + 1) % 10}`;
    const checkpointFile = join(dir, `${name}.json`);
    writeFileSync(
      checkpointFile,
      JSON.stringify({ [shardId]: { sequenceNumber: lost, arrival: checkpointTime } }),
    );
    const seen: string[] = [];
    const lines: string[] = [];
    const poller = poll(name, {
      checkpointFile,
      handler: async (event) => {
        seen.push(...keysOf(event));
        return undefined;
      },
      log: (line) => lines.push(line),
    });
    await until('records after the checkpoint', () => seen.length >= 5);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(
      seen.sort(),
      records('after', 5)
        .map((r) => r.partitionKey)
        .sort(),
    );
    const recoveries = lines.filter((line) => line.includes(lost));
    assert.equal(recoveries.length, 1, lines.join('\n'));
    assert.match(recoveries[0] as string, /may be delivered again/);
    assert.equal(poller.stats.recoveredCheckpoints, 1);
  });

  it('splits a failing batch down to the record that fails, and delivers every other record', async () => {
    const { name } = await oneShardStream();
    const input = records('bisect', 40);
    const poison = 'bisect-17';
    const sequenceNumbers = await putRecords(kinesis, name, input);
    const delivered = new Set<string>();
    const failedBatchesFile = join(dir, `${name}-failed.jsonl`);
    const poller = poll(name, {
      bisectBatchOnError: true,
      maxRetries: 1,
      failedBatchesFile,
      handler: async (event) => {
        if (keysOf(event).includes(poison)) throw new Error('a record this handler cannot take');
        for (const key of keysOf(event)) delivered.add(key);
        return undefined;
      },
    });
    await until('the poison record given up', () => poller.stats.exhaustedBatches >= 1);
    await until('every other record', () => delivered.size >= 39);
    assert.deepEqual(
      input.map((r) => r.partitionKey).filter((key) => !delivered.has(key)),
      [poison],
    );
    const [failed] = readFileSync(failedBatchesFile, 'utf8').trim().split('\n');
    const info = JSON.parse(failed as string).KinesisBatchInfo;
    assert.equal(info.batchSize, 1);
    assert.equal(info.startSequenceNumber, sequenceNumbers[17]);
    assert.ok(poller.stats.invocations < 30, `${poller.stats.invocations} invocations to isolate one record`);
  });

  it('checkpoints a batch only once the emulator has persisted what it wrote', async () => {
    const { name, shardId } = await oneShardStream();
    const sequenceNumbers = await putRecords(kinesis, name, records('durable', 5));
    const checkpointFile = join(dir, `${name}-durable.json`);
    let persistedBefore = Number.NEGATIVE_INFINITY;
    const poller = poll(name, { checkpointFile, durableBefore: () => persistedBefore });
    await until('the batch handled', () => poller.stats.records >= 5);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      existsSync(checkpointFile),
      false,
      'checkpointed past output the emulator had not persisted',
    );
    persistedBefore = Date.now();
    await until('the checkpoint', () => existsSync(checkpointFile));
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    assert.equal(saved[shardId].sequenceNumber, sequenceNumbers[4]);
    assert.deepEqual(
      readdirSync(dir).filter((file) => file.endsWith('.tmp')),
      [],
      'no temporary file left beside the checkpoint',
    );
  });

  it('a stop abandons a batch still in flight without checkpointing past it', async () => {
    const { name } = await oneShardStream();
    await putRecords(kinesis, name, records('inflight', 3));
    const checkpointFile = join(dir, `${name}-inflight.json`);
    let release: () => void = () => undefined;
    let started = false;
    const poller = poll(name, {
      checkpointFile,
      handler: async () => {
        started = true;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return undefined;
      },
    });
    await until('the batch in flight', () => started);
    await poller.stop(200);
    release();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(checkpointFile), false, 'checkpointed an abandoned batch');
  });
});
