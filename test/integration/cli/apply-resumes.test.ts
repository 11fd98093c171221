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
import { SelectorSnapshot } from '#shared/ownership/selector-snapshot';
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

type PutArgs = Parameters<CatalogStore['put']>;

/**
 * The API handler on tables of its own, its store calling `beforeWrite` once,
 * just before the `nth` write: there another writer changes the catalog for real.
 */
async function applyHarness(
  nth: number,
  beforeWrite: (real: CatalogStore, ...put: PutArgs) => Promise<void>,
) {
  const tables = await createIsolatedTables();
  const real = makeDynamoCatalogStore({
    client: createDocumentClient(tables.client),
    catalogTable: tables.catalogTable,
    auditTable: tables.auditTable,
  });
  let writes = 0;
  const store: CatalogStore = {
    ...real,
    put: async (...put) => {
      writes++;
      if (writes === nth) await beforeWrite(real, ...put);
      return real.put(...put);
    },
  };
  const logger = new Logger({ logLevel: 'CRITICAL' });
  const handler = makeApiHandler({
    store,
    services: new SelectorSnapshot({
      client: createDocumentClient(tables.client),
      table: tables.catalogTable,
    }),
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
  return { real, invoke };
}

const otherWriter = (change: PutArgs[3]) => ({ ...change, requestId: 'other-writer' });

describe('apply in resumable steps', () => {
  it('keeps what was applied before a failure, and the next apply completes the rest', async () => {
    // Someone else creates the same entity first, with a different tier.
    const { real, invoke } = await applyHarness(3, async (real, kind, doc, _expected, change) => {
      await real.put(kind, { ...doc, tier: 'tier-3' }, undefined, otherWriter(change));
    });
    const doc = {
      apiVersion: 'portolan/v1',
      entities: [
        { kind: 'team', id: 'payments', name: 'Payments' },
        ...['a', 'b', 'c', 'd'].map((id) => ({ kind: 'service', id, team: 'payments' })),
      ],
    };

    const first = await invoke(doc);
    assert.equal(first.status, 412);
    assert.equal(first.body.title, 'Precondition Failed');
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

  it('answers a reference deleted midway with 422 Unprocessable Content, naming what was applied', async () => {
    // The services' team exists when the plan is made, and is deleted just before the second write.
    const { real, invoke } = await applyHarness(2, async (real, _kind, _doc, _expected, change) => {
      await real.delete('team', 'payments', undefined, otherWriter(change));
    });
    const team = { kind: 'team', id: 'payments', name: 'Payments' };
    assert.equal((await invoke({ apiVersion: 'portolan/v1', entities: [team] })).status, 200);

    const services = ['a', 'b'].map((id) => ({ kind: 'service', id, team: 'payments' }));
    const failed = await invoke({ apiVersion: 'portolan/v1', entities: [team, ...services] });
    assert.equal(failed.status, 422, JSON.stringify(failed.body));
    assert.equal(failed.body.title, 'Unprocessable Content');
    assert.match(failed.body.detail, /create service\/a failed after 0 change\(s\) were applied/);
    assert.deepEqual(failed.body.failed, { ref: 'service/a', action: 'create' });
    assert.equal(await real.get('service', 'a'), undefined);
  });
});
