/**
 * A private audit setup for tampering tests: catalog and audit tables of its
 * own in DynamoDB Local, a digest archive and signing key of its own (the local
 * stand-ins), and the real API handler over them, invoked in process. A test can
 * then tamper with the tables and the archive as an insider would, without
 * disturbing any other test.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeAccessControl } from '#functions/api/access-control';
import { makeApiHandler } from '#functions/api/handler';
import { lambdaContext } from '#infra/local/lambda-context';
import { makeLocalDigestSigner } from '#shared/audit/local-digest-signer';
import { makeLocalDigestStore } from '#shared/audit/local-digest-store';
import { writeDigest } from '#shared/audit/write-digest';
import { SelectorSnapshot } from '#shared/ownership/selector-snapshot';
import { allAuditHeads } from '#shared/store/audit-heads';
import { isolatedCatalogStore } from '../../support/isolated-tables.ts';

const principal = {
  issuer: 'https://issuer.test',
  subject: 'auditor',
  scopes: ['portolan/admin'],
  claims: { sub: 'auditor' },
};

function getEvent(path: string, query: Record<string, string>) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    queryStringParameters: query,
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      authorizer: { lambda: { principal: JSON.stringify(principal) } },
    },
  };
}

export async function createAuditLab() {
  const { tables, client, store } = await isolatedCatalogStore();
  const stateDir = mkdtempSync(join(tmpdir(), 'portolan-audit-lab-'));
  const archiveDir = join(stateDir, 'audit-digests');
  const archive = makeLocalDigestStore(archiveDir);
  const signer = makeLocalDigestSigner(join(stateDir, 'audit-digest-key.pem'));
  const logger = new Logger({ logLevel: 'CRITICAL' });
  const handler = makeApiHandler({
    store,
    services: new SelectorSnapshot({ client, table: tables.catalogTable }),
    access: makeAccessControl(store),
    ownership: {
      resolve: async () => ({}) as never,
      unowned: async () => ({ items: [] }),
      observed: async () => [],
    },
    logger,
    metrics: new Metrics({ logger, namespace: 'PortolanTest', serviceName: 'audit' }),
    digests: archive,
  });
  let clock = Date.parse('2026-03-01T00:00:00.000Z');
  /** Each change and digest an hour apart, so digests list exactly the heads that moved. */
  const tick = () => {
    clock += 3_600_000;
    return new Date(clock);
  };
  const ctx = () => ({ actor: { iss: 'https://issuer.test', sub: 'ci' }, requestId: 'req', now: tick() });

  return {
    ...tables,
    client,
    store,
    archiveDir,
    /** Puts a team (create or update); returns nothing, as the API would. */
    async putTeam(id: string, name: string) {
      await store.put('team', { id, name, contacts: { slack: `#${id}` } }, undefined, ctx());
    },
    async deleteTeam(id: string) {
      await store.delete('team', id, undefined, ctx());
    },
    digest: () =>
      writeDigest({
        heads: () => allAuditHeads(client, tables.catalogTable),
        store: archive,
        signer,
        now: tick,
      }),
    async get(path: string, query: Record<string, string> = {}) {
      const response = (await handler(
        getEvent(path, query) as never,
        lambdaContext('api') as never,
      )) as APIGatewayProxyStructuredResultV2;
      return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? '{}') };
    },
    verify(entity: string) {
      return this.get('/v1/audit/verify', { entity });
    },
  };
}

export type AuditLab = Awaited<ReturnType<typeof createAuditLab>>;
