/** The digest signer from the environment: KMS (`DIGEST_KEY_ID`) or the local key (`DIGEST_LOCAL_KEY_FILE`). */
import type { DigestSigner } from '#shared/audit/audit-digest';
import { lazy } from '#shared/audit/digest-env';

export function digestSignerFromEnv(env: NodeJS.ProcessEnv = process.env): DigestSigner {
  const keyId = env.DIGEST_KEY_ID;
  const keyFile = env.DIGEST_LOCAL_KEY_FILE;
  if (!keyId && !keyFile) throw new Error('environment variable DIGEST_KEY_ID is not set');
  const signer = lazy<DigestSigner>(async () =>
    keyId
      ? (await import('#shared/audit/kms-digest-signer')).makeKmsDigestSigner(keyId)
      : (await import('#shared/audit/local-digest-signer')).makeLocalDigestSigner(keyFile as string),
  );
  return {
    sign: async (message) => (await signer()).sign(message),
    publicKey: async () => (await signer()).publicKey(),
  };
}
