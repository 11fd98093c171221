/**
 * A document applied in steps survives a failure midway: the API handler runs
 * on DynamoDB Local (tables of its own), and just before its third write
 * another writer changes that entity — a real concurrent change, so the
 * write's version condition really fails. The changes before it stay applied
 * and the next apply completes the rest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeAccessControl } from '#functions/api/access-control';
import { makeApiHandler } from '#functions/api/handler';
import { lambdaContext } from '#infra/local/lambda-context';
import type { CatalogStore } from '#shared/store/catalog-store';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { createIsolatedTables } from '../../support/isolated-tables.ts';

const principal = {
  issuer: 'https://issuer.test',
  subject: 'ci',
  scopes: ['portolan/catalog.read', 'portolan/catalog.write'],
  claims: { sub: 'ci' },
};

function applyEvent(body: unknown) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/apply',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      http: {
        method: 'POST',
        path: '/v1/apply',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      authorizer: { lambda: { principal: JSON.stringify(principal) } },
    },
  };
}

describe('apply in resumable steps', () => {
  it('keeps what was applied before a failure, and the next apply completes the rest', async () => {
    const tables = await createIsolatedTables();
    const real = makeDynamoCatalogStore({
      client: createDocumentClient(tables.client),
      catalogTable: tables.catalogTable,
      auditTable: tables.auditTable,
    });
    let writes = 0;
    let failed = false;
    const store: CatalogStore = {
      ...real,
      put: async (kind, doc, expected, change) => {
        writes++;
        if (writes === 3 && !failed) {
          failed = true;
          // Someone else creates the same entity first, with a different tier.
          await real.put(kind, { ...doc, tier: 'tier-3' }, undefined, {
            ...change,
            requestId: 'other-writer',
          });
        }
        return real.put(kind, doc, expected, change);
      },
    };
    const logger = new Logger({ logLevel: 'CRITICAL' });
    const handler = makeApiHandler({
      store,
      access: makeAccessControl(store),
      ownership: {
        resolve: async () => assert.fail('not used'),
        unowned: async () => ({ items: [] }),
        observed: async () => [],
      },
      logger,
      metrics: new Metrics({ logger, namespace: 'PortolanTest', serviceName: 'apply' }),
    });
    const invoke = async (body: unknown) => {
      const response = (await handler(
        applyEvent(body) as never,
        lambdaContext('api') as never,
      )) as APIGatewayProxyStructuredResultV2;
      return { status: response.statusCode, body: JSON.parse(response.body ?? '{}') };
    };
    const doc = {
      apiVersion: 'portolan/v1',
      entities: [
        { kind: 'team', id: 'payments', name: 'Payments' },
        ...['a', 'b', 'c', 'd'].map((id) => ({ kind: 'service', id, team: 'payments' })),
      ],
    };

    const first = await invoke(doc);
    assert.equal(first.status, 412);
    assert.match(first.body.detail, /failed after 2 change\(s\) were applied.*Apply the document again/);
    assert.deepEqual(
      first.body.applied.map((c: { ref: string }) => c.ref),
      ['team/payments', 'service/a'],
    );
    assert.ok(await real.get('service', 'a'));
    assert.equal((await real.get('service', 'b'))?.doc.tier, 'tier-3', "the other writer's version stands");
    assert.equal(await real.get('service', 'c'), undefined);

    const second = await invoke(doc);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.deepEqual(second.body.summary, { create: 2, update: 1, delete: 0, unchanged: 2 });
    assert.equal(
      (await real.get('service', 'b'))?.doc.tier,
      undefined,
      'the document wins on the next apply',
    );
    const third = await invoke(doc);
    assert.deepEqual(third.body.summary, { create: 0, update: 0, delete: 0, unchanged: 5 });
  });
});
