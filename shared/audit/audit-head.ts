/**
 * An entity's audit head: the sequence number and hash of its newest event,
 * kept beside the catalog and written in the same transaction as that event.
 * It outlives a deleted entity, so a deleted entity's log cannot be truncated or
 * restarted unnoticed either.
 */
export interface AuditHead {
  entity: string;
  seq: number;
  hash: string;
  /** The newest event's `at`: when the head last moved. */
  at: string;
}

/** What a digest attests for one entity. */
export type HeadRef = Pick<AuditHead, 'entity' | 'seq' | 'hash'>;
