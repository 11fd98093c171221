/**
 * The catalog as the core sees it: entities with optimistic concurrency, each
 * change written together with its audit event. The DynamoDB adapter
 * (`dynamodb-catalog-store.ts`) implements it; route handlers and the pure core
 * never import the SDK. The modules that read or write the catalog table
 * directly, for speed or in the same transaction as an entity (the enricher's
 * catalog cache, the team index, audit heads), key its items with
 * `table-definitions.ts`, where the table's layout is written down once.
 */

import type { AuditActor, AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import type { EntityRef } from '#shared/catalog/entity-kinds';

/** Kinds of record the store versions and audits: the four catalog kinds and access policies. */
export type StoredKind = 'team' | 'service' | 'repository' | 'environment' | 'policy';

/** An entity document as stored; each kind's schema gives it its shape on the way in. */
export type StoredDocument = Record<string, unknown> & { id: string };

export interface StoredEntity {
  kind: StoredKind;
  doc: StoredDocument;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Precondition on the current version: a number (`If-Match`), `absent` (`If-None-Match: *`), or none. */
export type VersionPrecondition = number | 'absent' | undefined;

export interface ChangeContext {
  actor: AuditActor;
  requestId: string;
  /** Clock injected for deterministic tests; defaults to now. */
  now?: Date;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface PutResult {
  entity: StoredEntity;
  created: boolean;
  /** False when the document equals the stored one: nothing was written, no audit event. */
  changed: boolean;
}

export interface CatalogStore {
  get(kind: StoredKind, id: string): Promise<StoredEntity | undefined>;
  list(kind: StoredKind, options: { limit: number; cursor?: string }): Promise<Page<StoredEntity>>;
  /** Create or replace; an unchanged document writes nothing. */
  put(
    kind: StoredKind,
    doc: StoredDocument,
    expected: VersionPrecondition,
    ctx: ChangeContext,
  ): Promise<PutResult>;
  delete(
    kind: StoredKind,
    id: string,
    expected: VersionPrecondition,
    ctx: ChangeContext,
  ): Promise<StoredEntity>;
  auditEvents(
    entity: EntityRef | `policy/${string}`,
    options: { limit: number; cursor?: string },
  ): Promise<Page<AuditEvent>>;
  /** Every audit event of one entity, oldest first (for chain verification). */
  auditChain(entity: EntityRef | `policy/${string}`): Promise<AuditEvent[]>;
  /** The entity's audit head: its newest event's seq and hash, written with it. */
  auditHead(entity: EntityRef | `policy/${string}`): Promise<AuditHead | undefined>;
  /** Every entity's head, a page at a time (the audit export). */
  auditHeads(options: { limit: number; cursor?: string }): Promise<Page<AuditHead>>;
}

/** Raised by the store; the API maps each to its problem+json status. */
export class StoreError extends Error {
  constructor(
    readonly code: 'not-found' | 'precondition-failed' | 'conflict' | 'missing-reference' | 'bad-cursor',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
