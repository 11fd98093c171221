/**
 * Writes enriched records to the output stream with `PutRecords`, in chunks
 * within Kinesis limits (500 records, 5 MiB per call), retrying the entries a
 * partial failure names with exponential backoff. What still fails is returned,
 * so the handler reports those input records as batch item failures.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { OutputRecord } from '#shared/telemetry/enrich-records';

export interface DeliveryOptions {
  client: KinesisClient;
  streamName: string;
  /** Attempts per chunk, the first included. @default 5 */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

const maxRecordsPerCall = 500;
const maxBytesPerCall = 5 * 1024 * 1024;

export function chunkForPutRecords(records: OutputRecord[]): OutputRecord[][] {
  const chunks: OutputRecord[][] = [];
  let current: OutputRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = record.data.length + Buffer.byteLength(record.partitionKey);
    if (current.length === maxRecordsPerCall || (current.length > 0 && bytes + size > maxBytesPerCall)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Delivers every record it can; returns the ids (input sequence numbers) of records that could not be written. */
export async function deliverToKinesis(
  records: OutputRecord[],
  options: DeliveryOptions,
): Promise<Set<string>> {
  const failed = new Set<string>();
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const maxAttempts = options.maxAttempts ?? 5;
  for (const chunk of chunkForPutRecords(records)) {
    let pending = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(Math.min(2_000, 100 * 2 ** (attempt - 2)) * (0.5 + Math.random() / 2));
      let failedNow: OutputRecord[];
      try {
        const entries: PutRecordsRequestEntry[] = pending.map((r) => ({
          Data: r.data,
          PartitionKey: r.partitionKey,
        }));
        const result = await options.client.send(
          new PutRecordsCommand({ StreamName: options.streamName, Records: entries }),
        );
        failedNow = result.FailedRecordCount ? pending.filter((_, i) => result.Records?.[i]?.ErrorCode) : [];
      } catch {
        failedNow = pending;
      }
      pending = failedNow;
      if (pending.length > 0 && attempt >= maxAttempts) {
        for (const record of pending) failed.add(record.id);
        break;
      }
    }
  }
  return failed;
}
