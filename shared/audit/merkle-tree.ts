/**
 * A Merkle root over every entity's audit head, as RFC 6962 builds one: leaves
 * and inner nodes hashed with different prefixes (0x00, 0x01) so a leaf can never
 * pass for a node, leaves sorted by entity so the root depends on the heads alone,
 * and the right-most node of an odd level carried up unpaired.
 */
import { createHash } from 'node:crypto';
import type { HeadRef } from '#shared/audit/audit-head';
import { canonicalJson } from '#shared/json/canonical-json';

const sha256 = (...parts: (Buffer | string)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** A head's leaf hash; kept by callers that recompute roots over mostly unchanged heads. */
export const leafHash = (head: HeadRef): Buffer =>
  sha256(Buffer.from([0]), canonicalJson({ entity: head.entity, seq: head.seq, hash: head.hash }));

export const byEntity = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The hex root of leaves already in entity order; the hash of nothing when there are none. */
export function merkleRootOfLeaves(leaves: readonly Buffer[]): string {
  if (leaves.length === 0) return sha256('').toString('hex');
  let level = leaves;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const [left, right] = [level[i] as Buffer, level[i + 1]];
      next.push(right ? sha256(Buffer.from([1]), left, right) : left);
    }
    level = next;
  }
  return (level[0] as Buffer).toString('hex');
}

/** The hex root of the heads, in any order. */
export function merkleRoot(heads: Iterable<HeadRef>): string {
  return merkleRootOfLeaves([...heads].sort((a, b) => byEntity(a.entity, b.entity)).map(leafHash));
}
