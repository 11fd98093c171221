/**
 * Producing to and consuming from the local stack's real Kinesis streams
 * (kinesis-mock) with the AWS SDK, as a producer and a downstream consumer would.
 */
import { type _Record, type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { openStreamReader } from '#infra/local/stream-reader';

export { localKinesisClient as kinesisFor } from '#infra/local/local-state';

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
  const reader = await openStreamReader(client, streamName);
  const kept: _Record[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let settleUntil: number | undefined;
  while (Date.now() < deadline && (settleUntil === undefined || Date.now() < settleUntil)) {
    const records = await reader.read();
    kept.push(...records.filter(options.keep));
    if (settleUntil === undefined && options.done(kept)) settleUntil = Date.now() + (options.settleMs ?? 0);
    if (records.length === 0) await new Promise((r) => setTimeout(r, 150));
  }
  return kept;
}
