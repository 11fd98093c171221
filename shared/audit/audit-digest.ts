/**
 * Audit digests, pure: what one signed digest holds, how it is signed and
 * chained, and how a run of digests adds up to the heads of the whole catalog.
 *
 * A digest lists every head that moved since the previous digest, the Merkle
 * root over all heads, the previous digest's hash (so digests form a chain like
 * the events do) and the period it covers, and is signed with ECDSA P-256 over
 * SHA-256 of its canonical JSON (RFC 8785) without the signature.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { genesisHash } from '#shared/audit/audit-chain';
import type { AuditHead, HeadRef } from '#shared/audit/audit-head';
import { byEntity, leafHash, merkleRoot, merkleRootOfLeaves } from '#shared/audit/merkle-tree';
import { canonicalJson } from '#shared/json/canonical-json';

export const digestFormat = 'portolan-audit-digest/1';

export interface UnsignedDigest {
  format: typeof digestFormat;
  /** 1, 2, ...: the digest's place in the chain. */
  number: number;
  /** The period covered: the previous digest's `to` (or the first head's time) to this run. */
  from: string;
  to: string;
  /** sha256 of the previous digest's canonical JSON, signature included; 64 zeros for the first. */
  previousDigestHash: string;
  /** Every head that moved since the previous digest, sorted by entity. */
  heads: HeadRef[];
  /** How many heads the catalog has in all, and their Merkle root. */
  headCount: number;
  merkleRoot: string;
  /** sha256 of the signing key's DER SubjectPublicKeyInfo: which published key verifies this. */
  publicKeyFingerprint: string;
  signatureAlgorithm: 'ECDSA_SHA_256';
}

export interface SignedDigest extends UnsignedDigest {
  /** Base64 DER ECDSA signature, as KMS `Sign` returns it. */
  signature: string;
}

/** Signs a message: ECDSA P-256 over SHA-256, DER signature. KMS and the local key implement it. */
export interface DigestSigner {
  sign(message: Buffer): Promise<Buffer>;
  /** DER SubjectPublicKeyInfo, as KMS `GetPublicKey` returns it. */
  publicKey(): Promise<Buffer>;
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export const signingInput = (digest: UnsignedDigest): Buffer => {
  const { signature: _ignored, ...unsigned } = digest as SignedDigest;
  return Buffer.from(canonicalJson(unsigned));
};

export const digestHash = (digest: SignedDigest): string => sha256Hex(canonicalJson(digest));

export const publicKeyFingerprint = (spkiDer: Buffer): string => sha256Hex(spkiDer);

export const publicKeyPem = (spkiDer: Buffer): string =>
  createPublicKey({ key: spkiDer, format: 'der', type: 'spki' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;

/** True when `digest` carries a valid signature by the key given as PEM or DER. */
export function digestSignatureValid(digest: SignedDigest, publicKey: string | Buffer): boolean {
  try {
    const key =
      typeof publicKey === 'string'
        ? createPublicKey(publicKey)
        : createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    return verify('sha256', signingInput(digest), key, Buffer.from(digest.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * How far back a head may be dated and still count as moved since the previous
 * digest: an API transaction stamps its events before it commits, so a head can
 * appear in the table after a digest that began later than its `at`. Listing a
 * head in two digests is harmless; missing one would not be.
 */
export const commitLagMs = 5 * 60_000;

export interface DigestInput {
  previous: SignedDigest | undefined;
  heads: readonly AuditHead[];
  now: Date;
  publicKeyFingerprint: string;
}

/** The next digest of the chain, before its signature. */
export function nextDigest({ previous, heads, now, publicKeyFingerprint }: DigestInput): UnsignedDigest {
  const since = previous ? Date.parse(previous.to) - commitLagMs : Number.NEGATIVE_INFINITY;
  const moved = heads
    .filter((head) => Date.parse(head.at) >= since)
    .map(({ entity, seq, hash }) => ({ entity, seq, hash }))
    .sort((a, b) => (a.entity < b.entity ? -1 : 1));
  const earliest = heads.map((head) => head.at).sort()[0] ?? now.toISOString();
  return {
    format: digestFormat,
    number: (previous?.number ?? 0) + 1,
    from: previous?.to ?? earliest,
    to: now.toISOString(),
    previousDigestHash: previous ? digestHash(previous) : genesisHash,
    heads: moved,
    headCount: heads.length,
    merkleRoot: merkleRoot(heads),
    publicKeyFingerprint,
    signatureAlgorithm: 'ECDSA_SHA_256',
  };
}

export async function signDigest(digest: UnsignedDigest, signer: DigestSigner): Promise<SignedDigest> {
  const signature = await signer.sign(signingInput(digest));
  return { ...digest, signature: signature.toString('base64') };
}

export interface DigestLinkProblem {
  number: number;
  reason: string;
}

/**
 * Checks a run of consecutive digests, oldest first: each signed by a known key,
 * numbered one after the other, chained to its predecessor by hash and period.
 * `first` is the digest before the run, when the run does not start at number 1.
 */
export function checkDigestLinks(
  digests: readonly SignedDigest[],
  publicKeys: ReadonlyMap<string, string | Buffer>,
  before?: SignedDigest,
): DigestLinkProblem[] {
  const problems: DigestLinkProblem[] = [];
  let previous = before;
  for (const digest of digests) {
    const key = publicKeys.get(digest.publicKeyFingerprint);
    if (!key) {
      problems.push({
        number: digest.number,
        reason: `signed by key ${digest.publicKeyFingerprint.slice(0, 16)}…, which is not published`,
      });
    } else if (!digestSignatureValid(digest, key)) {
      problems.push({ number: digest.number, reason: 'signature does not verify: the digest was altered' });
    }
    if (previous) {
      if (digest.number !== previous.number + 1) {
        problems.push({
          number: digest.number,
          reason: `digest ${previous.number + 1}${digest.number > previous.number + 2 ? `–${digest.number - 1}` : ''} missing: digest ${digest.number} follows ${previous.number}`,
        });
      } else if (digest.previousDigestHash !== digestHash(previous)) {
        problems.push({
          number: digest.number,
          reason: `previousDigestHash does not match digest ${previous.number}: that digest was replaced`,
        });
      }
      if (digest.from !== previous.to) {
        problems.push({
          number: digest.number,
          reason: `period starts ${digest.from}, but digest ${previous.number} ended ${previous.to}`,
        });
      }
    } else if (digest.number === 1 && digest.previousDigestHash !== genesisHash) {
      problems.push({ number: 1, reason: 'the first digest does not chain to the genesis hash' });
    }
    previous = digest;
  }
  return problems;
}

/**
 * Folds digests (oldest first, from number 1) into the heads they attest, and
 * checks each digest's Merkle root against the fold: a head that moved without
 * being listed, or a listed head that was not in the catalog, breaks the root.
 */
export function foldDigests(digests: readonly SignedDigest[]): {
  heads: Map<string, HeadRef>;
  problems: DigestLinkProblem[];
} {
  const heads = new Map<string, HeadRef>();
  const leaves = new Map<string, Buffer>();
  const problems: DigestLinkProblem[] = [];
  let order: string[] = [];
  for (const digest of digests) {
    const grew = digest.heads.some((head) => !heads.has(head.entity));
    for (const head of digest.heads) {
      heads.set(head.entity, head);
      leaves.set(head.entity, leafHash(head));
    }
    if (grew) order = [...heads.keys()].sort(byEntity);
    const root = merkleRootOfLeaves(order.map((entity) => leaves.get(entity) as Buffer));
    if (heads.size !== digest.headCount || root !== digest.merkleRoot) {
      problems.push({
        number: digest.number,
        reason: `the heads listed in digests 1–${digest.number} do not add up to its Merkle root (${digest.headCount} heads signed, ${heads.size} listed)`,
      });
    }
  }
  return { heads, problems };
}
