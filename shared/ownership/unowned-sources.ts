/**
 * Telemetry sources nobody owns, so that "who owns that rogue endpoint?" has
 * an answer. The enricher counts them in memory and flushes each source to the
 * catalog table (pk `unowned`) at most once per TTL; `GET /v1/unowned` lists them.
 *
 * Producers choose how many distinct sources there are, so both the memory
 * and the writes are bounded: at most `maxSources` tallies are held (written
 * ones make room for new ones; past that, new sources are dropped and
 * counted), and at most `maxWritesPerInterval` updates are made per TTL, the
 * sources with the most telemetry first.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { decodeCursor, encodeCursor } from '#shared/store/page-cursor';

/** The attributes that identify a source (stable ones: not host names or instance ids). */
export const identifyingAttributes = [
  'service.name',
  'service.namespace',
  'deployment.environment.name',
  'deployment.environment',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.deployment.name',
  'cloud.account.id',
  'cloud.region',
  'faas.name',
  'aws.log.group.names',
];

/** Longest identifying value kept: an item holds the identity, and DynamoDB items are at most 400 KB. */
export const maxIdentityValueLength = 256;

/** A value as stored: cut to length, lone surrogates (which DynamoDB refuses) replaced. */
const storable = (value: string) => value.slice(0, maxIdentityValueLength).replace(/\p{Cs}/gu, '\ufffd');

export function sourceIdentity(attributes: SourceAttributes): {
  fingerprint: string;
  attributes: SourceAttributes;
} {
  const identity: SourceAttributes = {};
  for (const name of identifyingAttributes) {
    const value = attributes[name];
    if (value !== undefined)
      identity[name] = Array.isArray(value) ? value.slice(0, 16).map(storable) : storable(value);
  }
  const fingerprint = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
  return { fingerprint, attributes: identity };
}

interface Tally {
  attributes: SourceAttributes;
  pending: number;
  firstSeen: string;
  lastSeen: string;
  flushedAt: number;
}

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
  private readonly tallies = new Map<string, Tally>();
  /** Sources not tallied because the table was full of unwritten ones; updates made. */
  readonly stats = { dropped: 0, writes: 0 };
  private window = { start: Number.NEGATIVE_INFINITY, writes: 0 };

  constructor(private readonly options: UnownedTrackerOptions) {}

  get size() {
    return this.tallies.size;
  }

  record(attributes: SourceAttributes, count = 1): void {
    const { fingerprint, attributes: identity } = sourceIdentity(attributes);
    const now = new Date(this.options.now?.() ?? Date.now()).toISOString();
    const tally = this.tallies.get(fingerprint);
    if (tally) {
      tally.pending += count;
      tally.lastSeen = now;
    } else {
      if (!this.makeRoom()) {
        this.stats.dropped += count;
        return;
      }
      this.tallies.set(fingerprint, {
        attributes: identity,
        pending: count,
        firstSeen: now,
        lastSeen: now,
        flushedAt: Number.NEGATIVE_INFINITY,
      });
    }
  }

  /** Room for one more tally: written ones (nothing pending) are forgotten when the map is full. */
  private makeRoom(): boolean {
    const max = this.options.maxSources ?? 1_000;
    if (this.tallies.size < max) return true;
    for (const [fingerprint, tally] of this.tallies)
      if (tally.pending === 0) this.tallies.delete(fingerprint);
    return this.tallies.size < max;
  }

  /**
   * Writes sources not written within the TTL (or all with `force`), within
   * the interval's write allowance, most telemetry first; failures and what
   * the allowance leaves keep their counts for later.
   */
  async flush(force = false): Promise<number> {
    const now = this.options.now?.() ?? Date.now();
    if (now - this.window.start >= this.options.ttlMs) this.window = { start: now, writes: 0 };
    const allowance = (this.options.maxWritesPerInterval ?? 100) - this.window.writes;
    if (allowance <= 0) return 0;
    const due = [...this.tallies]
      .filter(([, tally]) => tally.pending > 0 && (force || now - tally.flushedAt >= this.options.ttlMs))
      .sort(([, a], [, b]) => b.pending - a.pending)
      .slice(0, allowance);
    this.window.writes += due.length;
    this.stats.writes += due.length;
    // One update per source, side by side: a batch is not held up source after source.
    const written = await Promise.all(
      due.map(async ([fingerprint, tally]) => {
        const count = tally.pending;
        try {
          await this.options.client.send(
            new UpdateCommand({
              TableName: this.options.table,
              Key: { pk: 'unowned', sk: fingerprint },
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
                ':count': count,
              },
            }),
          );
          tally.pending -= count;
          tally.flushedAt = now;
          return 1;
        } catch {
          // The catalog is unreachable: keep counting, write on a later flush.
          return 0;
        }
      }),
    );
    return written.reduce<number>((a, b) => a + b, 0);
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
      TableName: table,
      KeyConditionExpression: 'pk = :unowned',
      ExpressionAttributeValues: { ':unowned': 'unowned' },
      Limit: page.limit,
      ...(page.cursor
        ? { ExclusiveStartKey: { pk: 'unowned', sk: decodeCursor(page.cursor, 'string') } }
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
