/**
 * Telemetry sources nobody owns, so that "who owns that rogue endpoint?" has
 * an answer. The enricher counts them in memory and flushes each source to the
 * catalog table (pk `unowned`) at most once per TTL; `GET /v1/unowned` lists them.
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

export function sourceIdentity(attributes: SourceAttributes): {
  fingerprint: string;
  attributes: SourceAttributes;
} {
  const identity: SourceAttributes = {};
  for (const name of identifyingAttributes) {
    const value = attributes[name];
    if (value !== undefined) identity[name] = value;
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

export class UnownedTracker {
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly options: {
      client: DynamoDBDocumentClient;
      table: string;
      ttlMs: number;
      now?: () => number;
    },
  ) {}

  record(attributes: SourceAttributes, count = 1): void {
    const { fingerprint, attributes: identity } = sourceIdentity(attributes);
    const now = new Date(this.options.now?.() ?? Date.now()).toISOString();
    const tally = this.tallies.get(fingerprint);
    if (tally) {
      tally.pending += count;
      tally.lastSeen = now;
    } else {
      this.tallies.set(fingerprint, {
        attributes: identity,
        pending: count,
        firstSeen: now,
        lastSeen: now,
        flushedAt: 0,
      });
    }
  }

  /** Writes sources not written within the TTL (or all with `force`); failures keep the counts for later. */
  async flush(force = false): Promise<number> {
    const now = this.options.now?.() ?? Date.now();
    const due = [...this.tallies].filter(
      ([, tally]) => tally.pending > 0 && (force || now - tally.flushedAt >= this.options.ttlMs),
    );
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
