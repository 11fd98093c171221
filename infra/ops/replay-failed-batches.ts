/**
 * Replays Kinesis batches that exhausted the enrich function's retries. Lambda
 * sends only the batch's coordinates (shard, sequence range) to the on-failure
 * queue; the records themselves are still in the input stream for its
 * retention period (7 days as deployed). This reads them back and puts them on
 * the input stream again, with their partition keys, so they are enriched like
 * any new record — at-least-once, as everywhere else in the pipeline.
 *
 * The same replay reads a whole stream, shard by shard: the quarantine
 * stream, whose records go wherever the operator decides once judged.
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';

/** What Lambda writes to an on-failure destination for a Kinesis batch (the local poller writes the same). */
export interface KinesisBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  streamArn: string;
}

export function batchInfoOf(message: string): KinesisBatchInfo {
  let parsed: { KinesisBatchInfo?: Partial<KinesisBatchInfo> };
  try {
    parsed = JSON.parse(message);
  } catch {
    throw new Error(`not JSON: ${message.slice(0, 80)}`);
  }
  const info = parsed.KinesisBatchInfo;
  if (!info?.shardId || !info.startSequenceNumber || !info.endSequenceNumber || !info.streamArn)
    throw new Error(
      'not a Kinesis on-failure record: KinesisBatchInfo with shardId, sequence range and streamArn expected',
    );
  return info as KinesisBatchInfo;
}

export const streamNameOf = (streamArn: string) => streamArn.slice(streamArn.lastIndexOf('/') + 1);

/** The batch's records, read back from its shard. */
export async function readBatch(client: KinesisClient, info: KinesisBatchInfo): Promise<_Record[]> {
  const end = BigInt(info.endSequenceNumber);
  let { ShardIterator: iterator } = await client.send(
    new GetShardIteratorCommand({
      StreamName: streamNameOf(info.streamArn),
      ShardId: info.shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: info.startSequenceNumber,
    }),
  );
  const records: _Record[] = [];
  while (iterator) {
    const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    for (const record of result.Records ?? []) {
      if (BigInt(record.SequenceNumber as string) > end) return records;
      records.push(record);
    }
    // Caught up with the shard without passing the end: the rest has expired or never existed.
    if ((result.Records ?? []).length === 0 && (result.MillisBehindLatest ?? 0) === 0) return records;
    iterator = result.NextShardIterator;
  }
  return records;
}

/** Puts the batch's records on `targetStream` (default: the stream they came from); returns how many. */
export async function replayBatch(
  client: KinesisClient,
  info: KinesisBatchInfo,
  targetStream = streamNameOf(info.streamArn),
): Promise<number> {
  const records = await readBatch(client, info);
  await putAll(client, records, targetStream);
  return records.length;
}

/**
 * Puts every record of `sourceStream` (from `since`, else from the oldest it
 * retains) on `targetStream`, shard by shard up to where each shard ends now,
 * with partition keys; returns how many. Kinesis records cannot be deleted:
 * running it again puts them again.
 */
export async function replayStream(
  client: KinesisClient,
  sourceStream: string,
  targetStream: string,
  since?: Date,
): Promise<number> {
  if (sourceStream === targetStream) throw new Error('replaying a stream onto itself would never end');
  let count = 0;
  for (const shardId of await shardIds(client, sourceStream)) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: sourceStream,
        ShardId: shardId,
        ...(since
          ? { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: since }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    while (iterator) {
      const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const records = result.Records ?? [];
      await putAll(client, records, targetStream);
      count += records.length;
      if (records.length === 0 && (result.MillisBehindLatest ?? 0) === 0) break;
      iterator = result.NextShardIterator;
    }
  }
  return count;
}

async function shardIds(client: KinesisClient, streamName: string): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
    );
    ids.push(...(page.Shards ?? []).map((shard) => shard.ShardId as string));
    nextToken = page.NextToken;
  } while (nextToken);
  return ids;
}

/** PutRecords in calls of 500, retrying what a partial failure names; throws after five attempts. */
async function putAll(client: KinesisClient, records: _Record[], targetStream: string): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    let pending = records.slice(i, i + 500);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await client.send(
        new PutRecordsCommand({
          StreamName: targetStream,
          Records: pending.map((r) => ({ PartitionKey: r.PartitionKey, Data: r.Data })),
        }),
      );
      pending = result.FailedRecordCount ? pending.filter((_, j) => result.Records?.[j]?.ErrorCode) : [];
      if (pending.length > 0 && attempt >= 5)
        throw new Error(
          `${pending.length} records could not be put on ${targetStream}; run the replay again`,
        );
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
