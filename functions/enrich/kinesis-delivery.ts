/**
 * Writes enriched records to the output stream with `PutRecords`, in chunks
 * within Kinesis limits (500 records, 5 MiB per call), retrying the entries a
 * partial failure names with exponential backoff. What still fails is returned,
 * so the handler reports those input records as batch item failures.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { retryWithBackoff } from '#shared/retry/retry-with-backoff';
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
/** Waits between attempts at a chunk: full jitter under 100 ms × 2^n, at most 2 s. */
const putRecordsBackoff = { baseMs: 100, capMs: 2_000 };

/** What a `PutRecords` entry needs, with the id a failure is reported by. */
export type KinesisEntry = Pick<OutputRecord, 'id' | 'partitionKey' | 'data'>;

export function chunkForPutRecords<T extends KinesisEntry>(records: T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
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
  records: KinesisEntry[],
  options: DeliveryOptions,
): Promise<Set<string>> {
  const failed = new Set<string>();
  for (const chunk of chunkForPutRecords(records)) {
    let pending = chunk;
    const { value: unwritten } = await retryWithBackoff(
      async () => {
        pending = await putOnce(pending, options);
        return { done: pending.length === 0, value: pending };
      },
      {
        maxAttempts: options.maxAttempts ?? 5,
        ...putRecordsBackoff,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      },
    );
    for (const record of unwritten) failed.add(record.id);
  }
  return failed;
}

/** One `PutRecords` call; returns the records it did not write (all of them when the call failed). */
async function putOnce(pending: KinesisEntry[], options: DeliveryOptions): Promise<KinesisEntry[]> {
  try {
    const entries: PutRecordsRequestEntry[] = pending.map((r) => ({
      Data: r.data,
      PartitionKey: r.partitionKey,
    }));
    const result = await options.client.send(
      new PutRecordsCommand({ StreamName: options.streamName, Records: entries }),
    );
    return result.FailedRecordCount ? pending.filter((_, i) => result.Records?.[i]?.ErrorCode) : [];
  } catch {
    return pending;
  }
}
