/**
 * Offline verification of an audit export, pure: the digests chain, are signed
 * by the published key (or the one the auditor brought), and add up to their
 * Merkle roots; every event chains; every head a digest ever attested is still
 * in the log with the same hash; and the heads match the newest events. Nothing
 * here trusts the API that produced the export: forging it takes the signing key.
 */

import { createPublicKey } from 'node:crypto';
import { verifyChain } from '#shared/audit/audit-chain';
import {
  checkDigestLinks,
  foldDigests,
  publicKeyFingerprint,
  type SignedDigest,
} from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import type { Finding, Located } from '#shared/audit/export-format';
import { attestationMismatch, verifyHead } from '#shared/audit/verify-entity';

export interface ExportContents {
  /** Published keys by the fingerprint their file is named after, as PEM. */
  publicKeys: ReadonlyMap<string, Located<string>>;
  /** A key the auditor obtained independently (`aws kms get-public-key`), as PEM. */
  trustedPublicKey?: string;
  digests: readonly Located<SignedDigest>[];
  events: readonly Located<AuditEvent>[];
  heads: readonly Located<AuditHead>[];
}

export interface ExportVerdict {
  intact: boolean;
  findings: Finding[];
  summary: {
    digests: number;
    lastDigest: { number: number; to: string } | null;
    entities: number;
    events: number;
    /** Events that a signed digest attests (directly or through a later attested event). */
    attestedEvents: number;
  };
}

const spkiFingerprint = (pem: string) =>
  publicKeyFingerprint(createPublicKey(pem).export({ type: 'spki', format: 'der' }));

export function verifyExport(contents: ExportContents): ExportVerdict {
  const findings: Finding[] = [];
  const keys = checkKeys(contents, findings);
  const digests = [...contents.digests].sort((a, b) => a.value.number - b.value.number);
  checkDigests(digests, keys, contents.trustedPublicKey, findings);
  const byEntity = groupEvents(contents.events);
  for (const [entity, events] of byEntity) checkChain(entity, events, findings);
  const attestedEvents = checkAttestations(digests, byEntity, findings);
  checkHeads(contents.heads, byEntity, findings);
  const last = digests.at(-1)?.value;
  return {
    intact: findings.length === 0,
    findings,
    summary: {
      digests: digests.length,
      lastDigest: last ? { number: last.number, to: last.to } : null,
      entities: byEntity.size,
      events: contents.events.length,
      attestedEvents,
    },
  };
}

function checkKeys(contents: ExportContents, findings: Finding[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [fingerprint, { value: pem, where }] of contents.publicKeys) {
    try {
      if (spkiFingerprint(pem) !== fingerprint) {
        findings.push({ where, problem: 'the key does not have the fingerprint it is named after' });
        continue;
      }
      keys.set(fingerprint, pem);
    } catch (error) {
      findings.push({ where, problem: `not a public key: ${(error as Error).message}` });
    }
  }
  return keys;
}

function checkDigests(
  digests: readonly Located<SignedDigest>[],
  keys: ReadonlyMap<string, string>,
  trustedPublicKey: string | undefined,
  findings: Finding[],
) {
  const whereOf = new Map(digests.map((d) => [d.value.number, d.where]));
  const at = (number: number) => whereOf.get(number) ?? `digest ${number}`;
  const first = digests[0]?.value;
  if (first && first.number !== 1) {
    findings.push({ where: at(first.number), problem: `digests 1–${first.number - 1} missing` });
  }
  if (trustedPublicKey) {
    const trusted = spkiFingerprint(trustedPublicKey);
    for (const { value, where } of digests) {
      if (value.publicKeyFingerprint !== trusted) {
        findings.push({ where, problem: 'not signed by the public key you supplied' });
      }
    }
  }
  const values = digests.map((d) => d.value);
  for (const { number, reason } of checkDigestLinks(values, keys)) {
    findings.push({ where: at(number), problem: reason });
  }
  for (const { number, reason } of foldDigests(values).problems) {
    findings.push({ where: at(number), problem: reason });
  }
}

function groupEvents(events: readonly Located<AuditEvent>[]) {
  const byEntity = new Map<string, Located<AuditEvent>[]>();
  for (const event of events) {
    const group = byEntity.get(event.value.entity) ?? [];
    group.push(event);
    byEntity.set(event.value.entity, group);
  }
  for (const group of byEntity.values()) group.sort((a, b) => a.value.seq - b.value.seq);
  return byEntity;
}

function checkChain(entity: string, events: readonly Located<AuditEvent>[], findings: Finding[]) {
  const verdict = verifyChain(events.map((e) => e.value));
  if (verdict.intact) return;
  const where = events.find((e) => e.value.seq === verdict.brokenAt)?.where ?? entity;
  findings.push({ where, problem: `${entity} event ${verdict.brokenAt}: ${verdict.reason}` });
}

/** Every attestation of every digest, against the log; returns how many events are attested. */
function checkAttestations(
  digests: readonly Located<SignedDigest>[],
  byEntity: ReadonlyMap<string, Located<AuditEvent>[]>,
  findings: Finding[],
): number {
  const newestAttested = new Map<string, number>();
  for (const { value: digest, where } of digests) {
    for (const head of digest.heads) {
      const events = byEntity.get(head.entity) ?? [];
      const reason = attestationMismatch(
        events.map((e) => e.value),
        head.seq,
        head.hash,
      );
      if (reason) {
        const event = events.find((e) => e.value.seq === head.seq);
        findings.push({
          where: event ? `${where} ↔ ${event.where}` : where,
          problem:
            events.length === 0
              ? `${head.entity}: all events deleted (${reason})`
              : `${head.entity}: ${reason}`,
        });
      }
      newestAttested.set(head.entity, Math.max(newestAttested.get(head.entity) ?? 0, head.seq));
    }
  }
  let attested = 0;
  for (const [entity, seq] of newestAttested) {
    attested += (byEntity.get(entity) ?? []).filter((e) => e.value.seq <= seq).length;
  }
  return attested;
}

function checkHeads(
  heads: readonly Located<AuditHead>[],
  byEntity: ReadonlyMap<string, Located<AuditEvent>[]>,
  findings: Finding[],
) {
  const headed = new Set<string>();
  for (const { value: head, where } of heads) {
    headed.add(head.entity);
    const events = (byEntity.get(head.entity) ?? []).map((e) => e.value);
    const verdict = verifyHead({ entity: head.entity, events, head });
    if (!verdict.intact) findings.push({ where, problem: `${head.entity}: ${verdict.reason}` });
  }
  if (heads.length === 0) return;
  for (const [entity, events] of byEntity) {
    if (!headed.has(entity)) {
      findings.push({
        where: events[0]?.where ?? entity,
        problem: `${entity}: the log has events but no head`,
      });
    }
  }
}
