/**
 * The digest signer on AWS: an asymmetric KMS key (`ECC_NIST_P256`,
 * `SIGN_VERIFY`). The message is hashed here and sent as a digest, so a digest
 * of any size can be signed (KMS takes at most 4 KiB of raw message); the
 * signature is the same ECDSA-over-SHA-256 a verifier checks against the message.
 */
import { createHash } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { DigestSigner } from '#shared/audit/audit-digest';

export function makeKmsDigestSigner(keyId: string, client = new KMSClient({})): DigestSigner {
  let publicKey: Promise<Buffer> | undefined;
  return {
    async sign(message) {
      const { Signature } = await client.send(
        new SignCommand({
          KeyId: keyId,
          Message: createHash('sha256').update(message).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      if (!Signature) throw new Error(`KMS returned no signature for key ${keyId}`);
      return Buffer.from(Signature);
    },
    publicKey() {
      publicKey ??= client.send(new GetPublicKeyCommand({ KeyId: keyId })).then(({ PublicKey }) => {
        if (!PublicKey) throw new Error(`KMS returned no public key for ${keyId}`);
        return Buffer.from(PublicKey);
      });
      // A failed fetch is not remembered: the next digest run asks again.
      publicKey.catch(() => {
        publicKey = undefined;
      });
      return publicKey;
    },
  };
}
