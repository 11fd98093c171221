/**
 * The API publishes metrics only for requests that recorded some: a read logs
 * no "No application metrics to publish" warning (a paid CloudWatch Logs line
 * per request), while a change still publishes its `CatalogChanges`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { apiDepsFromEnv, makeApiHandler } from '#functions/api/handler';
import { makeAuthorizerHandler } from '#functions/authorizer/handler';
import { type LocalGateway, startLocalGateway } from '#infra/local/local-gateway';
import { makeTokenVerifier } from '#shared/auth/token-verifier';
import { apiMetrics, metricsNamespace, serviceNames } from '#shared/metrics/metric-names';
import { createDocumentClient, createDynamoDbClient } from '#shared/store/dynamodb-client';
import { mintToken, readLocalStack } from '../../support/local-stack.ts';
import { unique } from './api-client.ts';

const state = readLocalStack();

/** The function's output (JSON log lines and EMF), kept here instead of printed. */
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
const noMetricsWarnings = () =>
  lines().filter((l) => String(l.message ?? '').includes('No application metrics to publish'));

let gateway: LocalGateway;
before(async () => {
  // Warnings logged and metrics published, as deployed (the test run quiets both).
  Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' });
  const documents = createDocumentClient(
    createDynamoDbClient({ endpoint: state.dynamodb.endpoint, region: state.region, credentials: state.aws }),
  );
  const verifier = makeTokenVerifier(
    [{ type: 'oidc', issuer: state.issuer, audience: [state.audience], jwksUri: `${state.issuer}/jwks` }],
    { caPem: readFileSync(state.caFile, 'utf8') },
  );
  gateway = await startLocalGateway({
    port: 0,
    authorizer: makeAuthorizerHandler({ verifier, logger: new Logger({ logLevel: 'ERROR' }) }) as never,
    handler: makeApiHandler(
      apiDepsFromEnv(
        { CATALOG_TABLE: state.dynamodb.tables.catalog, AUDIT_TABLE: state.dynamodb.tables.audit },
        documents,
      ),
    ) as never,
  });
});
after(() => gateway?.stop());

const admin = () =>
  mintToken(state, { sub: 'metrics-admin', client_id: 'metrics-admin', scope: 'portolan/admin' });

async function request(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${admin()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await response.text();
  return response.status;
}

describe('API metrics publishing', () => {
  it('a request that records no metric logs no "No application metrics to publish" warning', async () => {
    emitted.length = 0;
    assert.equal(await request('GET', '/v1/whoami'), 200);
    assert.equal(await request('GET', '/v1/teams'), 200);
    assert.deepEqual(noMetricsWarnings(), []);
    assert.deepEqual(
      lines().filter((l) => '_aws' in l),
      [],
      'nothing published for requests that recorded nothing',
    );
  });

  it('a change still publishes its CatalogChanges, under the namespace and service the alarms read', async () => {
    emitted.length = 0;
    const id = unique('metrics-team');
    assert.equal(await request('PUT', `/v1/teams/${id}`, { name: id, contacts: { slack: `#${id}` } }), 201);
    const published = lines().filter((l) => '_aws' in l);
    assert.equal(published.length, 1, JSON.stringify(emitted));
    const [emf] = published as {
      _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
      service: string;
      [metric: string]: unknown;
    }[];
    assert.equal(emf?._aws.CloudWatchMetrics[0]?.Namespace, metricsNamespace);
    assert.equal(emf?.service, serviceNames.api);
    assert.equal(emf?.[apiMetrics.catalogChanges], 1);
    assert.deepEqual(noMetricsWarnings(), []);
  });
});
