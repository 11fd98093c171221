/**
 * Telemetry sources seen owned through a selector, so that a service write can
 * be checked against the telemetry it would actually take (owner-changes.ts).
 * The enricher tallies each such source with its owner and writes it to the
 * catalog table (pk `observed`, sk a fingerprint of its attributes), where it
 * lives `ttlMs` (7 days): a source not seen for a week is forgotten.
 *
 * Sources owned by `service.name` are not recorded: that rule comes before
 * every selector, so no write of another service can take them.
 *
 * Bounded like the unowned tracker (source-tracker.ts): `maxSources` tallies,
 * `maxWritesPerInterval` writes per `intervalMs`. A source's item is rewritten
 * at most once per `refreshMs` (a day) whichever container sees it — the write
 * is conditioned on the item's age — or sooner when its owner changed.
 */
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import {
  identifyingAttributes,
  identityOf,
  SourceTallies,
  type Tally,
} from '#shared/ownership/source-tracker';
import { itemKey, partitionQuery, partitions } from '#shared/store/table-definitions';

/** Attributes kept beyond the identifying ones: those a selector names, which decide ownership. */
export const maxSelectorAttributes = 32;
const day = 24 * 60 * 60 * 1000;

export interface ObservedSource {
  attributes: SourceAttributes;
  /** The service the enricher stamped when it last wrote the source. */
  owner: string;
  firstSeen: string;
  lastSeen: string;
}

interface ObservedTally extends Tally {
  owner: string;
}

export interface ObservedTrackerOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** How often the write allowance renews (the enricher's cache TTL). */
  intervalMs: number;
  now?: () => number;
  /** How long an item lives after its last write. @default 7 days */
  ttlMs?: number;
  /** An item is rewritten at most this often, unless its owner changed. @default 1 day */
  refreshMs?: number;
  /** Tallies held in memory. @default 10000 */
  maxSources?: number;
  /** Writes per interval. @default 100 */
  maxWritesPerInterval?: number;
}

/**
 * The attributes stored for a source: the identifying ones, then (in name
 * order) up to {@link maxSelectorAttributes} others resolution looked at.
 */
export function observedIdentity(attributes: SourceAttributes) {
  const identifying = new Set(identifyingAttributes);
  const others = Object.keys(attributes)
    .filter((name) => !identifying.has(name))
    .sort()
    .slice(0, maxSelectorAttributes);
  return identityOf(attributes, [...identifyingAttributes, ...others]);
}

export class ObservedTracker {
  private readonly tallies: SourceTallies<ObservedTally>;
  private readonly ttlMs: number;
  private readonly refreshMs: number;

  constructor(private readonly options: ObservedTrackerOptions) {
    this.ttlMs = options.ttlMs ?? 7 * day;
    this.refreshMs = options.refreshMs ?? day;
    this.tallies = new SourceTallies<ObservedTally>({
      intervalMs: options.intervalMs,
      ...(options.now ? { now: options.now } : {}),
      maxSources: options.maxSources ?? 10_000,
      maxWritesPerInterval: options.maxWritesPerInterval ?? 100,
      due: (tally, now, force) => force || now - tally.flushedAt >= this.refreshMs,
      write: (fingerprint, tally, now) => this.write(fingerprint, tally, now),
    });
  }

  /** Sources not tallied because the table was full of unwritten ones; writes made. */
  get stats() {
    return this.tallies.stats;
  }

  get size() {
    return this.tallies.size;
  }

  /** A source seen owned by `owner` (once per batch is enough: what counts is that it was seen). */
  record(attributes: SourceAttributes, owner: string): void {
    const { fingerprint, attributes: identity } = observedIdentity(attributes);
    const now = new Date(this.tallies.now()).toISOString();
    this.tallies.record(
      fingerprint,
      1,
      (tally) => {
        if (tally.owner === owner) return;
        tally.owner = owner;
        tally.flushedAt = Number.NEGATIVE_INFINITY;
      },
      () => ({
        attributes: identity,
        owner,
        pending: 1,
        firstSeen: now,
        lastSeen: now,
        flushedAt: Number.NEGATIVE_INFINITY,
      }),
    );
  }

  /** Writes the sources due (or all with `force`), within the interval's allowance. */
  flush(force = false): Promise<number> {
    return this.tallies.flush(force);
  }

  private async write(fingerprint: string, tally: ObservedTally, now: number): Promise<void> {
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: itemKey(partitions.observed, fingerprint),
          UpdateExpression:
            'SET #attributes = :attributes, #owner = :owner, #firstSeen = if_not_exists(#firstSeen, :firstSeen), #lastSeen = :lastSeen, #writtenAt = :now, #expiresAt = :expiresAt',
          // Another container wrote it recently, with this owner: nothing to change.
          ConditionExpression:
            'attribute_not_exists(#writtenAt) OR #writtenAt <= :staleBefore OR #owner <> :owner',
          ExpressionAttributeNames: {
            '#attributes': 'attributes',
            '#owner': 'owner',
            '#firstSeen': 'firstSeen',
            '#lastSeen': 'lastSeen',
            '#writtenAt': 'writtenAt',
            '#expiresAt': 'expiresAt',
          },
          ExpressionAttributeValues: {
            ':attributes': tally.attributes,
            ':owner': tally.owner,
            ':firstSeen': tally.firstSeen,
            ':lastSeen': tally.lastSeen,
            ':now': now,
            ':staleBefore': now - this.refreshMs,
            // DynamoDB's TTL attribute: epoch seconds.
            ':expiresAt': Math.floor((now + this.ttlMs) / 1000),
          },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}

/** Observed sources a claim check reads at most; the rest are not checked (said in the answer). */
export const maxObservedSourcesChecked = 10_000;

/**
 * The observed sources not yet expired (DynamoDB deletes expired items late),
 * at most `max` of them, in pages of DynamoDB's 1 MB.
 */
export async function loadObservedSources(
  client: DynamoDBDocumentClient,
  table: string,
  { max = maxObservedSourcesChecked, now = Date.now() }: { max?: number; now?: number } = {},
): Promise<{ sources: ObservedSource[]; truncated: boolean }> {
  const sources: ObservedSource[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        ...partitionQuery(table, partitions.observed),
        FilterExpression: '#expiresAt > :now',
        ProjectionExpression: '#attributes, #owner, firstSeen, lastSeen',
        ExpressionAttributeNames: {
          '#expiresAt': 'expiresAt',
          '#attributes': 'attributes',
          '#owner': 'owner',
        },
        ExpressionAttributeValues: {
          ...partitionQuery(table, partitions.observed).ExpressionAttributeValues,
          ':now': Math.floor(now / 1000),
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      if (sources.length === max) return { sources, truncated: true };
      sources.push({
        attributes: item.attributes as SourceAttributes,
        owner: String(item.owner),
        firstSeen: String(item.firstSeen),
        lastSeen: String(item.lastSeen),
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { sources, truncated: false };
}
