/**
 * One digest run: read every head, chain a digest to the newest one, sign it
 * and create it in the archive. Losing the race for a number (another run got
 * there first) writes nothing — the chain never forks — and the run chains
 * again after the winner.
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

/**
 * The digest written, or undefined when concurrent runs kept taking its number
 * (each of them then covered these heads).
 */
export async function writeDigest(deps: DigestRunDeps, attempts = 3): Promise<SignedDigest | undefined> {
  const fingerprint = await publishPublicKey(deps.store, await deps.signer.publicKey());
  for (let attempt = 0; attempt < attempts; attempt++) {
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
    const body = `${JSON.stringify(digest, null, 2)}\n`;
    if (await deps.store.createObject(digestKey(digest.number), body)) return digest;
  }
  return undefined;
}
