/**
 * One digest run: read every head, chain a digest to the newest one, sign it
 * and create it in the archive. Losing a race for the number (another run got
 * there first) writes nothing: the chain never forks.
 */
import { type DigestSigner, nextDigest, type SignedDigest, signDigest } from '#shared/audit/audit-digest';
import type { AuditHead } from '#shared/audit/audit-head';
import { type DigestStore, digestKey, latestDigest, publishPublicKey } from '#shared/audit/digest-archive';

export interface DigestRunDeps {
  heads: () => Promise<AuditHead[]>;
  store: DigestStore;
  signer: DigestSigner;
  now?: () => Date;
}

/** The digest written, or undefined when a concurrent run wrote this number first. */
export async function writeDigest(deps: DigestRunDeps): Promise<SignedDigest | undefined> {
  const fingerprint = await publishPublicKey(deps.store, await deps.signer.publicKey());
  const previous = await latestDigest(deps.store);
  // Heads are read after the previous digest, so none it missed can be missed again.
  const heads = await deps.heads();
  const unsigned = nextDigest({
    previous,
    heads,
    now: deps.now?.() ?? new Date(),
    publicKeyFingerprint: fingerprint,
  });
  const digest = await signDigest(unsigned, deps.signer);
  const created = await deps.store.createObject(
    digestKey(digest.number),
    `${JSON.stringify(digest, null, 2)}\n`,
  );
  return created ? digest : undefined;
}
