/**
 * The catalog store on DynamoDB. Every change is one TransactWriteItems holding
 * the entity write (conditioned on its version), the reference counters of the
 * entities it starts or stops pointing at, and the audit event (conditioned on
 * its sequence number being new) with the entity's audit head moved to it
 * (conditioned on the head read): the change, its event and the head land
 * together or not at all, and two writers can never both extend a chain.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { chainEvent } from '#shared/audit/audit-chain';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import { type EntityKind, type EntityRef, referencesOf } from '#shared/catalog/entity-kinds';
import { canonicalJson } from '#shared/json/canonical-json';
import { auditHeadPage, auditHeadPut, readAuditHead } from '#shared/store/audit-heads';
import {
  type CatalogStore,
  type Page,
  type PutResult,
  type StoredEntity,
  type StoredKind,
  StoreError,
  type VersionPrecondition,
} from '#shared/store/catalog-store';
import { queryAll } from '#shared/store/dynamodb-client';
import { findDependents } from '#shared/store/find-dependents';
import { decodeCursor, encodeCursor } from '#shared/store/page-cursor';
import { itemKey, partitionQuery } from '#shared/store/table-definitions';
import { teamGroupUpdates } from '#shared/store/team-groups';

export interface DynamoCatalogStoreOptions {
  client: DynamoDBDocumentClient;
  catalogTable: string;
  auditTable: string;
  /** Attempts for an unconditional write that loses a race to a concurrent writer. */
  maxAttempts?: number;
}

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

interface CatalogItem {
  pk: string;
  sk: string;
  doc: StoredEntity['doc'];
  version: number;
  createdAt: string;
  updatedAt: string;
  refCount?: number;
}

const toStored = (item: CatalogItem): StoredEntity => ({
  kind: item.pk as StoredKind,
  doc: item.doc,
  version: item.version,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

/** The entity as the API and the audit log show it. */
export const representation = (e: StoredEntity) => ({
  ...e.doc,
  version: e.version,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

const refsOf = (kind: StoredKind, doc: Record<string, unknown>): EntityRef[] =>
  kind === 'policy' ? [] : referencesOf(kind as EntityKind, doc);

/** DynamoDB's limit on the items of one TransactWriteItems. */
const maxTransactItems = 100;

/** The group index entries a team change moves (none for other kinds). */
const groupIndexChanges = (
  table: string,
  kind: StoredKind,
  id: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
) => (kind === 'team' ? teamGroupUpdates(table, id, before, after) : []);

const splitRef = (ref: string) => {
  const slash = ref.indexOf('/');
  return itemKey(ref.slice(0, slash) as StoredKind, ref.slice(slash + 1));
};

export function makeDynamoCatalogStore(options: DynamoCatalogStoreOptions): CatalogStore {
  const { client, catalogTable, auditTable, maxAttempts = 5 } = options;

  async function getItem(kind: StoredKind, id: string) {
    const { Item } = await client.send(
      new GetCommand({ TableName: catalogTable, Key: itemKey(kind, id), ConsistentRead: true }),
    );
    return Item as CatalogItem | undefined;
  }

  /**
   * Where an entity's chain ends: its head; for a log written before heads
   * existed, its newest event (the next change then writes the head).
   */
  async function chainEnd(entity: string) {
    const head = await readAuditHead(client, catalogTable, entity);
    if (head) return { end: head, head };
    const { Items } = await client.send(
      new QueryCommand({
        TableName: auditTable,
        KeyConditionExpression: '#e = :e',
        ExpressionAttributeNames: { '#e': 'entity' },
        ExpressionAttributeValues: { ':e': entity },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return { end: Items?.[0] as AuditEvent | undefined, head: undefined };
  }

  function checkPrecondition(current: CatalogItem | undefined, expected: VersionPrecondition, ref: string) {
    if (expected === 'absent' && current) {
      throw new StoreError('precondition-failed', `${ref} already exists (version ${current.version})`, {
        currentVersion: current.version,
      });
    }
    if (typeof expected === 'number' && current?.version !== expected) {
      throw new StoreError(
        'precondition-failed',
        current
          ? `${ref} is at version ${current.version}, not ${expected}: read it again and retry`
          : `${ref} does not exist, so version ${expected} cannot match`,
        { currentVersion: current?.version ?? null },
      );
    }
  }

  const counterUpdate = (ref: string, delta: 1 | -1): TransactItem => ({
    Update: {
      TableName: catalogTable,
      Key: splitRef(ref),
      UpdateExpression: 'ADD refCount :d',
      // A new reference needs its target; a dropped one only decrements what is there.
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':d': delta },
    },
  });

  /** The event (never over an existing one) and the head moved to it (from the head read). */
  const auditWrites = (event: AuditEvent, head: AuditHead | undefined): TransactItem[] => [
    { Put: { TableName: auditTable, Item: event, ConditionExpression: 'attribute_not_exists(seq)' } },
    auditHeadPut(catalogTable, event, head),
  ];

  /**
   * Runs one read-decide-write attempt until it commits. A lost race is retried
   * only when the caller gave no version precondition; otherwise it is a 412.
   */
  async function withRetries<T>(expected: VersionPrecondition, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        const lostRace = error instanceof LostRace;
        if (!lostRace) throw error;
        if (expected !== undefined || i >= maxAttempts) {
          throw new StoreError('precondition-failed', error.message);
        }
      }
    }
  }

  /** Maps a cancelled transaction to the reason a caller can act on. */
  function explainCancellation(error: TransactionCanceledException, labels: string[]): never {
    const reasons = error.CancellationReasons ?? [];
    for (const [i, reason] of reasons.entries()) {
      const label = labels[i] ?? '';
      if (reason.Code === 'ConditionalCheckFailed' && label.startsWith('ref:')) {
        throw new StoreError('missing-reference', `${label.slice(4)} does not exist; create it first`, {
          reference: label.slice(4),
        });
      }
    }
    throw new LostRace('the entity changed while this request was writing it; read it again and retry');
  }

  async function transact(items: TransactItem[], labels: string[]) {
    if (items.length > maxTransactItems) {
      throw new StoreError(
        'conflict',
        `this change needs ${items.length} writes in one transaction, more than DynamoDB's ${maxTransactItems}: change fewer of the team's groups at once (in two writes)`,
      );
    }
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) explainCancellation(error, labels);
      throw error;
    }
  }

  return {
    async get(kind, id) {
      const item = await getItem(kind, id);
      return item && toStored(item);
    },

    async list(kind, { limit, cursor }) {
      const input: QueryCommandInput = {
        ...partitionQuery(catalogTable, kind),
        ProjectionExpression: 'pk, sk, doc, version, createdAt, updatedAt',
        Limit: limit,
      };
      if (cursor) input.ExclusiveStartKey = itemKey(kind, decodeCursor(cursor, 'string'));
      const { Items = [], LastEvaluatedKey } = await client.send(new QueryCommand(input));
      const page: Page<StoredEntity> = { items: (Items as CatalogItem[]).map(toStored) };
      if (LastEvaluatedKey) page.nextCursor = encodeCursor(LastEvaluatedKey.sk as string);
      return page;
    },

    put(kind, doc, expected, ctx): Promise<PutResult> {
      const ref = `${kind}/${doc.id}`;
      return withRetries(expected, async () => {
        const [current, { end, head }] = await Promise.all([getItem(kind, doc.id), chainEnd(ref)]);
        checkPrecondition(current, expected, ref);
        if (current && canonicalJson(current.doc) === canonicalJson(doc)) {
          return { entity: toStored(current), created: false, changed: false };
        }
        const at = (ctx.now ?? new Date()).toISOString();
        const entity: StoredEntity = {
          kind,
          doc,
          version: (current?.version ?? 0) + 1,
          createdAt: current?.createdAt ?? at,
          updatedAt: at,
        };
        const oldRefs = current ? refsOf(kind, current.doc) : [];
        const newRefs = refsOf(kind, doc);
        const added = newRefs.filter((r) => !oldRefs.includes(r));
        const removed = oldRefs.filter((r) => !newRefs.includes(r));
        const event = chainEvent(end, {
          entity: ref,
          at,
          action: current ? 'update' : 'create',
          actor: ctx.actor,
          requestId: ctx.requestId,
          before: current ? representation(toStored(current)) : null,
          after: representation(entity),
        });
        const write: TransactItem = current
          ? {
              Update: {
                TableName: catalogTable,
                Key: itemKey(kind, doc.id),
                UpdateExpression: 'SET doc = :doc, version = :v, updatedAt = :at',
                ConditionExpression: 'version = :cur',
                ExpressionAttributeValues: {
                  ':doc': doc,
                  ':v': entity.version,
                  ':at': at,
                  ':cur': current.version,
                },
              },
            }
          : {
              Put: {
                TableName: catalogTable,
                Item: { ...itemKey(kind, doc.id), doc, version: 1, createdAt: at, updatedAt: at },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            };
        const groups = groupIndexChanges(catalogTable, kind, doc.id, current?.doc, doc);
        await transact(
          [
            write,
            ...added.map((r) => counterUpdate(r, 1)),
            ...removed.map((r) => counterUpdate(r, -1)),
            ...auditWrites(event, head),
            ...groups.map((g) => g.item),
          ],
          [
            'entity',
            ...added.map((r) => `ref:${r}`),
            ...removed.map((r) => `unref:${r}`),
            'audit',
            'head',
            ...groups.map((g) => g.label),
          ],
        );
        return { entity, created: !current, changed: true };
      });
    },

    delete(kind, id, expected, ctx) {
      const ref = `${kind}/${id}`;
      return withRetries(expected, async () => {
        const [current, { end, head }] = await Promise.all([getItem(kind, id), chainEnd(ref)]);
        if (!current) throw new StoreError('not-found', `${ref} does not exist`);
        checkPrecondition(current, expected, ref);
        if ((current.refCount ?? 0) > 0) {
          const dependents = await findDependents(client, catalogTable, kind, id);
          throw new StoreError('conflict', `${ref} is still referenced by ${dependents.join(', ')}`, {
            dependents,
          });
        }
        const at = (ctx.now ?? new Date()).toISOString();
        const refs = refsOf(kind, current.doc);
        const groups = groupIndexChanges(catalogTable, kind, id, current.doc, undefined);
        const event = chainEvent(end, {
          entity: ref,
          at,
          action: 'delete',
          actor: ctx.actor,
          requestId: ctx.requestId,
          before: representation(toStored(current)),
          after: null,
        });
        await transact(
          [
            {
              Delete: {
                TableName: catalogTable,
                Key: itemKey(kind, id),
                // refCount is rechecked here: a reference added since the read cancels the delete.
                ConditionExpression:
                  'version = :cur AND (attribute_not_exists(refCount) OR refCount = :zero)',
                ExpressionAttributeValues: { ':cur': current.version, ':zero': 0 },
              },
            },
            ...refs.map((r) => counterUpdate(r, -1)),
            ...auditWrites(event, head),
            ...groups.map((g) => g.item),
          ],
          ['entity', ...refs.map((r) => `unref:${r}`), 'audit', 'head', ...groups.map((g) => g.label)],
        );
        return toStored(current);
      });
    },

    async auditEvents(entity, { limit, cursor }) {
      const input: QueryCommandInput = {
        TableName: auditTable,
        KeyConditionExpression: '#e = :e',
        ExpressionAttributeNames: { '#e': 'entity' },
        ExpressionAttributeValues: { ':e': entity },
        ScanIndexForward: false,
        Limit: limit,
      };
      if (cursor) input.ExclusiveStartKey = { entity, seq: decodeCursor(cursor, 'number') };
      const { Items = [], LastEvaluatedKey } = await client.send(new QueryCommand(input));
      const page: Page<AuditEvent> = { items: Items as AuditEvent[] };
      if (LastEvaluatedKey) page.nextCursor = encodeCursor(LastEvaluatedKey.seq as number);
      return page;
    },

    async auditChain(entity) {
      const items = await queryAll(client, {
        TableName: auditTable,
        KeyConditionExpression: '#e = :e',
        ExpressionAttributeNames: { '#e': 'entity' },
        ExpressionAttributeValues: { ':e': entity },
        ConsistentRead: true,
      });
      return items as unknown as AuditEvent[];
    },

    auditHead: (entity) => readAuditHead(client, catalogTable, entity),

    auditHeads: (page) => auditHeadPage(client, catalogTable, page),
  };
}

/** A concurrent writer got there first; retried when the caller set no precondition. */
class LostRace extends Error {}
