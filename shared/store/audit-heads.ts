/**
 * Audit heads in the catalog table: one item per audited entity (pk
 * `audit-head`, sk `service/checkout`) holding the `seq` and `hash` of its
 * newest event. The store writes it in the same transaction as the event,
 * conditioned on the head it read, so the head always names the event that
 * the last committed change wrote — and, kept apart from the entity's own item,
 * it survives the entity's deletion.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import type { Page } from '#shared/store/catalog-store';
import { queryAll } from '#shared/store/dynamodb-client';
import { decodeCursor, encodeCursor } from '#shared/store/page-cursor';
import { itemKey, partitionQuery, partitions } from '#shared/store/table-definitions';

/** The heads' partition; the digest function's IAM policy is limited to it. */
export const auditHeadPartition = partitions.auditHead;

interface HeadItem {
  pk: string;
  sk: string;
  seq: number;
  hash: string;
  at: string;
}

const toHead = (item: HeadItem): AuditHead => ({
  entity: item.sk,
  seq: item.seq,
  hash: item.hash,
  at: item.at,
});

export async function readAuditHead(
  client: DynamoDBDocumentClient,
  table: string,
  entity: string,
): Promise<AuditHead | undefined> {
  const { Item } = await client.send(
    new GetCommand({ TableName: table, Key: itemKey(auditHeadPartition, entity), ConsistentRead: true }),
  );
  return Item && toHead(Item as HeadItem);
}

const headsQuery = (table: string): QueryCommandInput => partitionQuery(table, auditHeadPartition);

export async function auditHeadPage(
  client: DynamoDBDocumentClient,
  table: string,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<Page<AuditHead>> {
  const input: QueryCommandInput = { ...headsQuery(table), Limit: limit };
  if (cursor) input.ExclusiveStartKey = itemKey(auditHeadPartition, decodeCursor(cursor, 'string'));
  const { Items = [], LastEvaluatedKey } = await client.send(new QueryCommand(input));
  const page: Page<AuditHead> = { items: (Items as HeadItem[]).map(toHead) };
  if (LastEvaluatedKey) page.nextCursor = encodeCursor(LastEvaluatedKey.sk as string);
  return page;
}

export async function allAuditHeads(client: DynamoDBDocumentClient, table: string): Promise<AuditHead[]> {
  return (
    (await queryAll(client, { ...headsQuery(table), ConsistentRead: true })) as unknown as HeadItem[]
  ).map(toHead);
}

/**
 * The transaction item moving an entity's head to `event`: conditioned on the
 * head still being the one read (or absent), so a change can only extend the
 * chain from its real end, never from a truncated one.
 */
export function auditHeadPut(table: string, event: AuditEvent, read: AuditHead | undefined) {
  return {
    Put: {
      TableName: table,
      Item: {
        ...itemKey(auditHeadPartition, event.entity),
        seq: event.seq,
        hash: event.hash,
        at: event.at,
      },
      ...(read
        ? {
            ConditionExpression: 'seq = :seq AND #h = :hash',
            ExpressionAttributeNames: { '#h': 'hash' },
            ExpressionAttributeValues: { ':seq': read.seq, ':hash': read.hash },
          }
        : { ConditionExpression: 'attribute_not_exists(pk)' }),
    },
  };
}
