/**
 * Telemetry sources nobody owns, so that "who owns that rogue endpoint?" has
 * an answer. The enricher counts them in memory and flushes each source to the
 * catalog table (pk `unowned`) at most once per TTL; `GET /v1/unowned` lists
 * them. Memory and writes are bounded (source-tracker.ts): at most
 * `maxSources` tallies, at most `maxWritesPerInterval` updates per TTL.
 */
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { SourceTallies, sourceIdentity, type Tally } from '#shared/ownership/source-tracker';
import { decodeCursor, encodeCursor } from '#shared/store/page-cursor';
import { itemKey, partitionQuery, partitions } from '#shared/store/table-definitions';

export { identifyingAttributes } from '#shared/ownership/source-tracker';

export interface UnownedTrackerOptions {
  client: DynamoDBDocumentClient;
  table: string;
  ttlMs: number;
  now?: () => number;
  /** Tallies held in memory. @default 1000 */
  maxSources?: number;
  /** Updates per TTL interval. @default 100 */
  maxWritesPerInterval?: number;
}

export class UnownedTracker {
  private readonly tallies: SourceTallies<Tally>;

  constructor(private readonly options: UnownedTrackerOptions) {
    this.tallies = new SourceTallies<Tally>({
      intervalMs: options.ttlMs,
      ...(options.now ? { now: options.now } : {}),
      maxSources: options.maxSources ?? 1_000,
      maxWritesPerInterval: options.maxWritesPerInterval ?? 100,
      due: (tally, now, force) => force || now - tally.flushedAt >= options.ttlMs,
      write: (fingerprint, tally) => this.write(fingerprint, tally),
    });
  }

  /** Sources not tallied because the table was full of unwritten ones; updates made. */
  get stats() {
    return this.tallies.stats;
  }

  get size() {
    return this.tallies.size;
  }

  record(attributes: SourceAttributes, count = 1): void {
    const { fingerprint, attributes: identity } = sourceIdentity(attributes);
    const now = new Date(this.tallies.now()).toISOString();
    this.tallies.record(
      fingerprint,
      count,
      () => {},
      () => ({
        attributes: identity,
        pending: count,
        firstSeen: now,
        lastSeen: now,
        flushedAt: Number.NEGATIVE_INFINITY,
      }),
    );
  }

  /**
   * Writes sources not written within the TTL (or all with `force`), within
   * the interval's write allowance, most telemetry first; failures and what
   * the allowance leaves keep their counts for later.
   */
  flush(force = false): Promise<number> {
    return this.tallies.flush(force);
  }

  private async write(fingerprint: string, tally: Tally): Promise<void> {
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.table,
        Key: itemKey(partitions.unowned, fingerprint),
        UpdateExpression:
          'SET #attributes = :attributes, #firstSeen = if_not_exists(#firstSeen, :firstSeen), #lastSeen = :lastSeen ADD #count :count',
        ExpressionAttributeNames: {
          '#attributes': 'attributes',
          '#firstSeen': 'firstSeen',
          '#lastSeen': 'lastSeen',
          '#count': 'count',
        },
        ExpressionAttributeValues: {
          ':attributes': tally.attributes,
          ':firstSeen': tally.firstSeen,
          ':lastSeen': tally.lastSeen,
          ':count': tally.pending,
        },
      }),
    );
  }
}

export interface UnownedSource {
  attributes: SourceAttributes;
  firstSeen: string;
  lastSeen: string;
  count: number;
}

export async function listUnownedSources(
  client: DynamoDBDocumentClient,
  table: string,
  page: { limit: number; cursor?: string },
): Promise<{ items: UnownedSource[]; nextCursor?: string }> {
  const result = await client.send(
    new QueryCommand({
      ...partitionQuery(table, partitions.unowned),
      Limit: page.limit,
      ...(page.cursor
        ? { ExclusiveStartKey: itemKey(partitions.unowned, decodeCursor(page.cursor, 'string')) }
        : {}),
    }),
  );
  const items = (result.Items ?? []).map((item) => ({
    attributes: item.attributes as SourceAttributes,
    firstSeen: String(item.firstSeen),
    lastSeen: String(item.lastSeen),
    count: Number(item.count),
  }));
  const last = result.LastEvaluatedKey?.sk;
  return { items, ...(typeof last === 'string' ? { nextCursor: encodeCursor(last) } : {}) };
}
