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
} from '@aws-sdk/client-kinesis';
import { deliverToKinesis } from '#functions/enrich/kinesis-delivery';

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

/**
 * Puts the records with the enricher's own delivery (calls within 500 records
 * and 5 MiB, partial failures retried with backoff); throws when some could
 * not be put, so that the operator runs the replay again.
 */
async function putAll(client: KinesisClient, records: _Record[], targetStream: string): Promise<void> {
  const entries = records.map((r) => {
    const data = r.Data as Uint8Array;
    return {
      id: r.SequenceNumber as string,
      partitionKey: r.PartitionKey as string,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    };
  });
  const failed = await deliverToKinesis(entries, { client, streamName: targetStream });
  if (failed.size > 0)
    throw new Error(`${failed.size} records could not be put on ${targetStream}; run the replay again`);
}
