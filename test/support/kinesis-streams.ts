/**
 * Producing to and consuming from the local stack's real Kinesis streams
 * (kinesis-mock) with the AWS SDK, as a producer and a downstream consumer would.
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '#shared/aws/kinesis-client';
import type { LocalStackState } from './local-stack.ts';

export const kinesisFor = (state: LocalStackState) =>
  createKinesisClient({
    endpoint: state.kinesis.endpoint,
    region: state.region,
    credentials: state.aws,
  });

/** Puts the records (in calls of 500) and returns their sequence numbers. */
export async function putRecords(
  client: KinesisClient,
  streamName: string,
  records: { partitionKey: string; data: Buffer }[],
): Promise<string[]> {
  const sequenceNumbers: string[] = [];
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const result = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })),
      }),
    );
    if (result.FailedRecordCount) throw new Error(`${result.FailedRecordCount} records were not put`);
    sequenceNumbers.push(...(result.Records ?? []).map((r) => r.SequenceNumber as string));
  }
  return sequenceNumbers;
}

/**
 * Reads a stream from its start on every shard, keeping the records `keep`
 * accepts, until `done` says enough (then waits `settleMs` more for anything
 * that should not be there, e.g. duplicates) or the timeout passes.
 */
export async function collect(
  client: KinesisClient,
  streamName: string,
  options: {
    keep: (record: _Record) => boolean;
    done: (records: _Record[]) => boolean;
    timeoutMs?: number;
    settleMs?: number;
  },
): Promise<_Record[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const iterators = new Map<string, string | undefined>();
  for (const shard of Shards) {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    iterators.set(shard.ShardId as string, ShardIterator);
  }
  const kept: _Record[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let settleUntil: number | undefined;
  while (Date.now() < deadline && (settleUntil === undefined || Date.now() < settleUntil)) {
    let got = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      iterators.set(shardId, result.NextShardIterator);
      got += result.Records?.length ?? 0;
      kept.push(...(result.Records ?? []).filter(options.keep));
    }
    if (settleUntil === undefined && options.done(kept)) settleUntil = Date.now() + (options.settleMs ?? 0);
    if (got === 0) await new Promise((r) => setTimeout(r, 150));
  }
  return kept;
}
