/**
 * The catalog table's item layout, in one place: `pk` names a partition — an
 * entity kind (so one Query lists a kind, and the enricher reads every
 * service's selectors in one paginated Query) or one of the indexes and logs
 * kept beside the entities — and `sk` the item within it (an entity's id, a
 * group, an entity ref, a source's fingerprint). Every module that reads or
 * writes the table builds its keys and partition queries here.
 */
import type { StoredKind } from '#shared/store/catalog-store';

/** The partitions beside the entity kinds. */
export const partitions = {
  /** Identity-provider group → the teams that list it (team-groups.ts). */
  teamGroup: 'team-group',
  /** Each audited entity's newest event (audit-heads.ts). */
  auditHead: 'audit-head',
  /** Sources the enricher saw with no owner (unowned-sources.ts). */
  unowned: 'unowned',
} as const;

export type Partition = StoredKind | (typeof partitions)[keyof typeof partitions];

/** The key of one item. */
export const itemKey = (partition: Partition, sk: string) => ({ pk: partition, sk });

/** A Query of one whole partition (a page of it with `Limit` and `ExclusiveStartKey: itemKey(…)`). */
export const partitionQuery = (table: string, partition: Partition) => ({
  TableName: table,
  KeyConditionExpression: 'pk = :pk',
  ExpressionAttributeValues: { ':pk': partition } as Record<string, unknown>,
});
