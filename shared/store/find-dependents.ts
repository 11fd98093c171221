/**
 * Which entities point at a given one: only asked when a delete is refused, to
 * tell the caller what blocks it. Reference counters on the items make the refusal
 * itself atomic; this list is the explanation.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredKind } from '#shared/store/catalog-store';
import { queryAll } from '#shared/store/dynamodb-client';
import { partitionQuery } from '#shared/store/table-definitions';

/** For each kind that can be referenced: which kinds point at it, through which filter. */
const referrers: Partial<Record<StoredKind, { kind: StoredKind; filter: string }[]>> = {
  team: [
    { kind: 'service', filter: 'doc.team = :id' },
    { kind: 'repository', filter: 'doc.team = :id' },
    { kind: 'team', filter: 'doc.parent = :id' },
  ],
  repository: [{ kind: 'service', filter: 'doc.repository = :id' }],
  environment: [{ kind: 'service', filter: 'contains(doc.environments, :id)' }],
};

export async function findDependents(
  client: DynamoDBDocumentClient,
  table: string,
  kind: StoredKind,
  id: string,
): Promise<string[]> {
  const found: string[] = [];
  for (const { kind: referrer, filter } of referrers[kind] ?? []) {
    const query = partitionQuery(table, referrer);
    const items = await queryAll(client, {
      ...query,
      FilterExpression: filter,
      ExpressionAttributeValues: { ...query.ExpressionAttributeValues, ':id': id },
      ProjectionExpression: 'sk',
    });
    for (const item of items) found.push(`${referrer}/${item.sk}`);
  }
  return found.sort();
}
