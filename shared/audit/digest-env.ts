/**
 * The digest archive and signer from the environment, the same way in Lambda
 * and on the local stack: `DIGEST_BUCKET` (S3) or `DIGEST_LOCAL_DIR` (the local
 * stack's directory); `DIGEST_KEY_ID` (KMS) or `DIGEST_LOCAL_KEY_FILE` (the
 * local stack's P-256 key). Adapters load on first use, so a cold start does not
 * evaluate their SDK clients; the signer lives in its own module so that only
 * the digest function bundles the KMS client.
 */
import type { DigestStore } from '#shared/audit/digest-archive';

export function lazy<T extends object>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}

/** The archive, or undefined when this deployment keeps none. */
export function digestStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DigestStore | undefined {
  const bucket = env.DIGEST_BUCKET;
  const dir = env.DIGEST_LOCAL_DIR;
  if (!bucket && !dir) return undefined;
  const store = lazy<DigestStore>(async () =>
    bucket
      ? (await import('#shared/audit/s3-digest-store')).makeS3DigestStore(bucket)
      : (await import('#shared/audit/local-digest-store')).makeLocalDigestStore(dir as string),
  );
  return {
    createObject: async (key, body) => (await store()).createObject(key, body),
    readObject: async (key) => (await store()).readObject(key),
    listKeys: async (prefix, options) => (await store()).listKeys(prefix, options),
  };
}
