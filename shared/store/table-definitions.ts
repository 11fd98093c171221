/**
 * Tables and streams as plain data: the CDK stack and the local stack both build
 * from these, so keys and indexes cannot drift between deployed and local.
 *
 * Catalog table (single table, every kind of record the API and enricher keep):
 *   pk = record kind (`team`, `service`, `repository`, `environment`, `policy`, `unowned`,
 *   `observed`: sources seen owned through a selector, expiring by `expiresAt`),
 *   sk = id. Entity items carry `doc` (the entity as the API returns it, without
 *   version/timestamps), `version`, `createdAt`, `updatedAt`, `refCount` (how many
 *   entities point at this one; deletion requires 0).
 *   Why pk = kind: lists are one Query per kind, and the enricher loads every
 *   service's selectors in one paginated Query; a catalog is thousands of items,
 *   far below one partition's limits.
 *
 * Audit table: pk `entity` (`service/checkout`), sk `seq` (1, 2, ...). Append-only.
 */
import type { StoredKind } from '#shared/store/catalog-store';

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface TableDefinition {
  /** Construct id in CDK and the default table name in the local stack. */
  id: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /** The attribute DynamoDB expires items by (epoch seconds), if any. */
  timeToLiveAttribute?: string;
}

export const catalogTable: TableDefinition = {
  id: 'Catalog',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  // Observed sources (pk `observed`) expire a week after they were last written.
  timeToLiveAttribute: 'expiresAt',
};

export const auditTable: TableDefinition = {
  id: 'Audit',
  partitionKey: { name: 'entity', type: 'S' },
  sortKey: { name: 'seq', type: 'N' },
};

export interface StreamDefinition {
  id: string;
  /** Shards for the local stack and for provisioned mode; deployed streams default to on-demand. */
  localShards: number;
}

export const inputStream: StreamDefinition = { id: 'TelemetryIn', localShards: 2 };
export const outputStream: StreamDefinition = { id: 'TelemetryOut', localShards: 2 };
/** Records the enricher does not stamp, with `UNVOUCHED_RECORDS=quarantine`. */
export const quarantineStream: StreamDefinition = { id: 'TelemetryQuarantine', localShards: 1 };

/** The DynamoDB CreateTable input for a definition (local stack and tests; CDK maps the same fields). */
export function createTableInput(tableName: string, def: TableDefinition) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: def.partitionKey.name, AttributeType: def.partitionKey.type },
      { AttributeName: def.sortKey.name, AttributeType: def.sortKey.type },
    ],
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' as const },
    ],
  };
}

/** The catalog table's partitions beside the entity kinds; every reader and writer keys items with these. */
export const partitions = {
  /** Identity-provider group → the teams that list it (team-groups.ts). */
  teamGroup: 'team-group',
  /** Each audited entity's newest event (audit-heads.ts). */
  auditHead: 'audit-head',
  /** Sources the enricher saw with no owner (unowned-sources.ts). */
  unowned: 'unowned',
  /** Sources the enricher saw owned through a selector (observed-sources.ts). */
  observed: 'observed',
} as const;

export type Partition = StoredKind | (typeof partitions)[keyof typeof partitions];

/** The key of one catalog item. */
export const itemKey = <P extends Partition>(partition: P, sk: string) => ({ pk: partition, sk });

/** A Query of one whole catalog partition (a page of it with `Limit` and `ExclusiveStartKey: itemKey(…)`). */
export const partitionQuery = (table: string, partition: Partition) => ({
  TableName: table,
  KeyConditionExpression: 'pk = :pk',
  ExpressionAttributeValues: { ':pk': partition } as Record<string, unknown>,
});
