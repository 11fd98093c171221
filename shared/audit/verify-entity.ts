/**
 * One entity's audit log checked at three depths, pure:
 * - chain: the events hash-link from the genesis hash (an edit that was not recomputed);
 * - head: the newest event is the head written with the last change, and its
 *   `after` is the catalog item as it stands (truncation, appends, edits of the
 *   catalog item, all events deleted);
 * - digests: every signed digest that lists the entity still matches the event
 *   it attested (a rewrite recomputed all the way to the head).
 * Each layer says whether it holds and, if not, where and why.
 */
import { type ChainVerdict, verifyChain } from '#shared/audit/audit-chain';
import { checkDigestLinks, type DigestLinkProblem, type SignedDigest } from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import { canonicalJson } from '#shared/json/canonical-json';

export type HeadVerdict =
  | { intact: true; seq: number; hash?: string }
  | { intact: false; seq?: number; reason: string };

export interface Attestation {
  digest: number;
  seq: number;
}

export interface DigestVerdict {
  intact: boolean;
  /** The digests read, by number (newest ones; all of them offline). */
  checked: { from: number; to: number } | null;
  /** The newest digest whose attestation of this entity still holds. */
  attested: Attestation | null;
  /** The oldest digest whose attestation no longer holds: the log was rewritten since then. */
  brokenSince?: Attestation & { reason: string };
  /** Digests that are themselves altered, missing or out of order. */
  problems: DigestLinkProblem[];
  /** Events newer than the newest attestation: proven only by the head until the next digest. */
  unattestedEvents: number;
}

export interface DigestEvidence {
  /** Consecutive digests, oldest first. */
  digests: readonly SignedDigest[];
  /** The digest before the first one, when there is one: to check the first link. */
  before?: SignedDigest;
  publicKeys: ReadonlyMap<string, string | Buffer>;
  /** Digest objects that could not be read as digests. */
  unreadable?: readonly DigestLinkProblem[];
}

export interface EntityVerification {
  entity: string;
  intact: boolean;
  events: number;
  chain: ChainVerdict;
  head: HeadVerdict;
  digests: DigestVerdict | { intact: true; unavailable: string };
}

export interface EntityEvidence {
  entity: string;
  /** Oldest first. */
  events: readonly AuditEvent[];
  head: AuditHead | undefined;
  /** The catalog item as the API shows it (`representation`), null when there is none, undefined when unknown (offline). */
  current?: Record<string, unknown> | null;
  digests?: DigestEvidence;
}

export function verifyEntity(evidence: EntityEvidence): EntityVerification {
  const chain = verifyChain(evidence.events);
  const head = verifyHead(evidence);
  const digests = evidence.digests
    ? verifyAttestations(evidence.entity, evidence.events, evidence.digests)
    : { intact: true as const, unavailable: 'no digest store is configured' };
  return {
    entity: evidence.entity,
    intact: chain.intact && head.intact && digests.intact,
    events: evidence.events.length,
    chain,
    head,
    digests,
  };
}

export function verifyHead({ events, head, current }: EntityEvidence): HeadVerdict {
  const last = events.at(-1);
  if (!head) {
    if (last) return { intact: false, reason: `the log has ${events.length} events but no head` };
    if (current)
      return { intact: false, reason: 'the catalog item exists, but it has no head and no events' };
    return { intact: true, seq: 0 };
  }
  const broken = (reason: string): HeadVerdict => ({ intact: false, seq: head.seq, reason });
  if (!last) return broken(`the head is at event ${head.seq}, but the log has no events: all were deleted`);
  if (last.seq < head.seq) {
    return broken(
      `the log ends at event ${last.seq}, the head is at ${head.seq}: event${head.seq - last.seq > 1 ? `s ${last.seq + 1}–${head.seq}` : ` ${head.seq}`} deleted`,
    );
  }
  if (last.seq > head.seq) {
    return broken(
      `event${last.seq - head.seq > 1 ? `s ${head.seq + 1}–${last.seq} lie` : ` ${last.seq} lies`} beyond the head: appended outside a catalog change`,
    );
  }
  if (last.hash !== head.hash)
    return broken(`event ${last.seq} is not the event the head recorded: it was rewritten`);
  const mismatch = catalogMismatch(last, current);
  if (mismatch) return broken(mismatch);
  return { intact: true, seq: head.seq, hash: head.hash };
}

/** Why the catalog item is not what the newest event left, or undefined when it is. */
function catalogMismatch(
  last: AuditEvent,
  current: Record<string, unknown> | null | undefined,
): string | undefined {
  if (current === undefined) return undefined;
  if (last.after === null) {
    return current
      ? `the catalog item exists, but event ${last.seq} deleted it: recreated outside the API`
      : undefined;
  }
  if (!current)
    return `the catalog item is gone, but event ${last.seq} left it in place: deleted outside the API`;
  const fields = [...new Set([...Object.keys(last.after), ...Object.keys(current)])].filter(
    (field) => canonicalJson(last.after?.[field]) !== canonicalJson(current[field]),
  );
  return fields.length > 0
    ? `the catalog item differs from event ${last.seq}'s "after" in ${fields.join(', ')}: edited outside the API`
    : undefined;
}

/** Whether an attested head still matches the log; the reason when it does not. */
export function attestationMismatch(
  events: readonly AuditEvent[],
  seq: number,
  hash: string,
): string | undefined {
  const event = events.find((e) => e.seq === seq);
  if (!event) return `event ${seq}, attested with hash ${hash.slice(0, 12)}…, is missing from the log`;
  if (event.hash !== hash) {
    return `event ${seq} hashes to ${event.hash.slice(0, 12)}…, but was attested as ${hash.slice(0, 12)}…: events up to ${seq} were rewritten`;
  }
  return undefined;
}

function verifyAttestations(
  entity: string,
  events: readonly AuditEvent[],
  evidence: DigestEvidence,
): DigestVerdict {
  const { digests } = evidence;
  const problems = [
    ...(evidence.unreadable ?? []),
    ...checkDigestLinks(digests, evidence.publicKeys, evidence.before),
  ];
  let attested: Attestation | null = null;
  let brokenSince: DigestVerdict['brokenSince'];
  for (const digest of digests) {
    const head = digest.heads.find((h) => h.entity === entity);
    if (!head) continue;
    const reason = attestationMismatch(events, head.seq, head.hash);
    if (reason) brokenSince ??= { digest: digest.number, seq: head.seq, reason };
    else attested = { digest: digest.number, seq: head.seq };
  }
  const first = digests[0];
  const last = digests.at(-1);
  return {
    intact: problems.length === 0 && !brokenSince,
    checked: first && last ? { from: first.number, to: last.number } : null,
    attested,
    ...(brokenSince ? { brokenSince } : {}),
    problems,
    unattestedEvents: events.filter((e) => e.seq > (attested?.seq ?? 0)).length,
  };
}
