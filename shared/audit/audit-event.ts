/** The audit log's event shape (each field is described in docs/audit.md), shared by the chain, the store and the API. */

/**
 * Who made a change, from the verified token: issuer, subject, client, CI
 * claims and, for a person, their email, name and groups at the time.
 */
export interface AuditActor {
  iss: string;
  sub: string;
  clientId?: string;
  email?: string;
  name?: string;
  /** The person's identity-provider groups when they made the change (validated, at most 100). */
  groups?: string[];
  /** CI claims worth keeping (GitHub Actions: repository, ref, workflow, run_id, actor, ...). */
  [claim: string]: string | string[] | undefined;
}

export type AuditAction = 'create' | 'update' | 'delete';

export interface AuditEvent {
  /** `service/checkout`, `policy/ci-own-repo`, ... */
  entity: string;
  seq: number;
  at: string;
  action: AuditAction;
  actor: AuditActor;
  requestId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}
