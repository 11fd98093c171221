/**
 * Where signed digests and their public keys are kept, and how they are found
 * again. Objects are only ever created, never replaced (`createObject` fails on
 * an existing key): two digest runs racing for the same number cannot fork the
 * chain, and nothing this code does can overwrite a digest. S3 (Object Lock,
 * `If-None-Match: *`) and the local stack's directory implement the store.
 *
 * Digest keys count down (`digests/9999999957.json` is digest 42) so that a
 * listing, which S3 returns in ascending key order, starts with the newest.
 */
import {
  type DigestLinkProblem,
  publicKeyFingerprint,
  publicKeyPem,
  type SignedDigest,
} from '#shared/audit/audit-digest';
import { isFinding, parseDigest } from '#shared/audit/export-format';

export interface DigestStore {
  /** Creates the object; false (and nothing written) when the key already exists. */
  createObject(key: string, body: string): Promise<boolean>;
  readObject(key: string): Promise<string | undefined>;
  /** Keys under a prefix in ascending order, from after `after`. */
  listKeys(
    prefix: string,
    options: { limit: number; after?: string },
  ): Promise<{ keys: string[]; more: boolean }>;
}

const digestPrefix = 'digests/';
const keyPrefix = 'public-keys/';
const countdownFrom = 9_999_999_999;

export const digestKey = (number: number) =>
  `${digestPrefix}${String(countdownFrom - number).padStart(10, '0')}.json`;

export const digestNumberOfKey = (key: string) =>
  countdownFrom - Number(key.slice(digestPrefix.length, -'.json'.length));

export const publicKeyKey = (fingerprint: string) => `${keyPrefix}${fingerprint}.pem`;

/** Publishes a signing key next to the digests (once: the key's name is its fingerprint). */
export async function publishPublicKey(store: DigestStore, spkiDer: Buffer): Promise<string> {
  const fingerprint = publicKeyFingerprint(spkiDer);
  await store.createObject(publicKeyKey(fingerprint), publicKeyPem(spkiDer));
  return fingerprint;
}

export async function publishedPublicKeys(store: DigestStore): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  let after: string | undefined;
  for (;;) {
    const page = await store.listKeys(keyPrefix, { limit: 100, ...(after ? { after } : {}) });
    for (const key of page.keys) {
      const pem = await store.readObject(key);
      if (pem) keys.set(key.slice(keyPrefix.length, -'.pem'.length), pem);
    }
    after = page.keys.at(-1);
    if (!page.more || !after) return keys;
  }
}

export interface DigestPage {
  /** Newest first. */
  digests: SignedDigest[];
  /** Digest objects that are not digests (replaced by something unreadable). */
  unreadable: DigestLinkProblem[];
  nextCursor?: string;
}

/** A page of digests, newest first; `cursor` is the last key of the previous page. */
export async function digestPage(
  store: DigestStore,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<DigestPage> {
  const page = await store.listKeys(digestPrefix, { limit, ...(cursor ? { after: cursor } : {}) });
  const bodies = await Promise.all(
    page.keys.map(async (key) => ({ key, body: await store.readObject(key) })),
  );
  const result: DigestPage = { digests: [], unreadable: [] };
  for (const { key, body } of bodies) {
    const parsed = parseDigest(body ?? '', key);
    if (isFinding(parsed)) result.unreadable.push({ number: digestNumberOfKey(key), reason: parsed.problem });
    else result.digests.push(parsed.value);
  }
  const last = page.keys.at(-1);
  if (page.more && last) result.nextCursor = last;
  return result;
}

export async function latestDigest(store: DigestStore): Promise<SignedDigest | undefined> {
  const { digests, unreadable } = await digestPage(store, { limit: 1 });
  if (unreadable[0]) {
    throw new Error(
      `digest ${unreadable[0].number} is unreadable (${unreadable[0].reason}); not chaining to it`,
    );
  }
  return digests[0];
}
