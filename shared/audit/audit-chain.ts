/**
 * The audit log's hash chain, pure: each event of an entity carries
 * `hash = sha256(canonical(event without hash) + prevHash)`, and the first event
 * chains to the genesis hash, so any edited, removed or reordered event breaks
 * every hash after it.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '#shared/audit/audit-event';
import { canonicalJson } from '#shared/json/canonical-json';

export const genesisHash = '0'.repeat(64);

export type UnhashedEvent = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>;

/** Canonical JSON: the same event always hashes the same, whatever its key order. */
export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256')
    .update(canonicalJson(event) + event.prevHash)
    .digest('hex');
}

/** The next event of an entity's chain, after `head` (its newest event, if any). */
export function chainEvent(
  head: Pick<AuditEvent, 'seq' | 'hash'> | undefined,
  fields: UnhashedEvent,
): AuditEvent {
  const unhashed = { ...fields, seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? genesisHash };
  return { ...unhashed, hash: hashEvent(unhashed) };
}

export type ChainVerdict =
  | { intact: true; events: number }
  | { intact: false; events: number; brokenAt: number; reason: string };

/** Recomputes a chain given oldest first; reports the first event that does not hold. */
export function verifyChain(events: readonly AuditEvent[]): ChainVerdict {
  let expectedPrev = genesisHash;
  for (const [index, event] of events.entries()) {
    const broken = (reason: string): ChainVerdict => ({
      intact: false,
      events: events.length,
      brokenAt: event.seq,
      reason,
    });
    if (event.seq !== index + 1) return broken(`expected event ${index + 1} here, found ${event.seq}`);
    if (event.prevHash !== expectedPrev) {
      return broken(`prevHash does not match the hash of event ${index}`);
    }
    const { hash, ...unhashed } = event;
    if (hashEvent(unhashed) !== hash) return broken(`hash does not match the event's content`);
    expectedPrev = hash;
  }
  return { intact: true, events: events.length };
}
