/**
 * The local stack's stand-in for the KMS signing key: an ECDSA P-256 key
 * generated at first start into the state directory, signing exactly as KMS
 * does with `ECDSA_SHA_256` (SHA-256, DER-encoded signature) and giving its
 * public key as DER SubjectPublicKeyInfo, like `GetPublicKey`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type { DigestSigner } from '#shared/audit/audit-digest';

/**
 * The key in `file`, created if absent. Written to a temporary file (mode 0600)
 * and linked into place, so a reader never sees half a key and two first starts
 * agree on one.
 */
export function ensureSigningKey(file: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return createPrivateKey(readFileSync(file, 'utf8'));
}

export function makeLocalDigestSigner(keyFile: string): DigestSigner {
  const privateKey = ensureSigningKey(keyFile);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    sign: async (message) => sign('sha256', message, { key: privateKey, dsaEncoding: 'der' }),
    publicKey: async () => spki,
  };
}
