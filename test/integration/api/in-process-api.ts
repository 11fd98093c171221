/**
 * The real authorizer and API run in this test process behind a gateway of the
 * test's own, so a test can watch their log lines and EMF or point them at a
 * DynamoDB of its choosing.
 */
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { apiDepsFromEnv, makeApiHandler } from '#functions/api/handler';
import { makeAuthorizerHandler } from '#functions/authorizer/handler';
import { type LocalGateway, startLocalGateway } from '#infra/local/local-gateway';
import { makeTokenVerifier } from '#shared/auth/token-verifier';
import { createDocumentClient, createDynamoDbClient } from '#shared/store/dynamodb-client';
import type { LocalStackState } from '../../support/local-stack.ts';

/**
 * Keeps the JSON lines written to stdout and stderr (log lines, EMF) instead of
 * printing them, until the file's tests end; clear with `emitted.length = 0`.
 */
export function captureJsonOutput() {
  const emitted: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: never[]) => {
      if (typeof chunk === 'string' && chunk.startsWith('{')) {
        emitted.push(...chunk.split('\n').filter(Boolean));
        return true;
      }
      return write(chunk as string, ...rest);
    }) as typeof stream.write;
    after(() => {
      stream.write = write;
    });
  }
  const lines = () => emitted.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { emitted, lines };
}

/** A gateway running the real authorizer (trusting the stack's issuer) and API against the DynamoDB at `endpoint`. */
export async function startInProcessApi(
  state: LocalStackState,
  endpoint: string,
  tables: { catalog: string; audit: string },
): Promise<LocalGateway> {
  const documents = createDocumentClient(
    createDynamoDbClient({ endpoint, region: state.region, credentials: state.aws }),
  );
  const verifier = makeTokenVerifier(
    [{ type: 'oidc', issuer: state.issuer, audience: [state.audience], jwksUri: `${state.issuer}/jwks` }],
    { caPem: readFileSync(state.caFile, 'utf8') },
  );
  return startLocalGateway({
    port: 0,
    authorizer: makeAuthorizerHandler({ verifier, logger: new Logger({ logLevel: 'ERROR' }) }) as never,
    handler: makeApiHandler(
      apiDepsFromEnv({ CATALOG_TABLE: tables.catalog, AUDIT_TABLE: tables.audit }, documents),
    ) as never,
  });
}

/** A request to `gateway` with `token`, a JSON body when one is given. */
export function send(gateway: LocalGateway, token: string, method: string, path: string, body?: unknown) {
  return fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
