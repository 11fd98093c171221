/**
 * The digest function: run on a schedule (hourly by default), it signs the
 * heads of the whole catalog into the next digest of the chain and stores it
 * outside the tables. See `shared/audit/write-digest.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { digestStoreFromEnv } from '#shared/audit/digest-env';
import { digestSignerFromEnv } from '#shared/audit/digest-signer-env';
import { type DigestRunDeps, writeDigest } from '#shared/audit/write-digest';
import { requiredEnv } from '#shared/config/required-env';
import { allAuditHeads } from '#shared/store/audit-heads';
import { createDocumentClient } from '#shared/store/dynamodb-client';

export function makeDigestHandler(deps: DigestRunDeps, logger: Logger) {
  return async () => {
    const digest = await writeDigest(deps);
    if (!digest) {
      logger.warn('concurrent runs kept taking the next digest number; nothing written by this one');
      return { written: false };
    }
    logger.info('digest written', {
      number: digest.number,
      from: digest.from,
      to: digest.to,
      headsMoved: digest.heads.length,
      headCount: digest.headCount,
    });
    return { written: true, number: digest.number, headsMoved: digest.heads.length };
  };
}

export function digestDepsFromEnv(env: NodeJS.ProcessEnv = process.env): DigestRunDeps {
  const client = createDocumentClient();
  const catalogTable = requiredEnv('CATALOG_TABLE', env);
  const store = digestStoreFromEnv(env);
  if (!store) throw new Error('environment variable DIGEST_BUCKET is not set');
  return { heads: () => allAuditHeads(client, catalogTable), store, signer: digestSignerFromEnv(env) };
}

export const handler = makeDigestHandler(digestDepsFromEnv(), new Logger());
