/**
 * The API with its DynamoDB gone, over real HTTP: a gateway and API of this
 * test's own (the shared stack's DynamoDB stays up for the other tests), in
 * front of a DynamoDB Local that the test stops, then of a port that accepts
 * connections and never answers. GET, PUT and /v1/resolve answer 503 with
 * Retry-After; the outage is logged once and counted per request. A table that
 * does not exist is a bug, not an outage: it stays a 500.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import type { LocalGateway } from '#infra/local/local-gateway';
import { claimPort } from '#infra/local/ports';
import { createTables } from '#infra/local/provision';
import { retryAfterSeconds } from '#shared/http/dependency-outage';
import { apiMetrics } from '#shared/metrics/metric-names';
import { createDynamoDbClient } from '#shared/store/dynamodb-client';
import { mintToken, readLocalStack } from '../../support/local-stack.ts';
import { captureJsonOutput, send, startInProcessApi } from './in-process-api.ts';

const state = readLocalStack();
const tables = { catalog: 'outage-catalog', audit: 'outage-audit' };
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const { emitted, lines: logLines } = captureJsonOutput();

/** A gateway running the real authorizer and API against the DynamoDB at `endpoint`. */
async function apiAgainst(endpoint: string, catalogTable = tables.catalog): Promise<LocalGateway> {
  Object.assign(process.env, {
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_METRICS_NAMESPACE: 'Portolan',
    POWERTOOLS_SERVICE_NAME: 'portolan-api',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  const gateway = await startInProcessApi(state, endpoint, { ...tables, catalog: catalogTable });
  cleanups.push(gateway.stop);
  return gateway;
}

const admin = () =>
  mintToken(state, { sub: 'outage-admin', client_id: 'outage-admin', scope: 'portolan/admin' });

async function request(gateway: LocalGateway, method: string, path: string, body?: unknown) {
  const started = Date.now();
  const response = await send(gateway, admin(), method, path, body);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text),
    ms: Date.now() - started,
  };
}

const team = (id: string) => ({ id, name: id, contacts: { slack: `#${id}` } });

function assertUnavailable(r: Awaited<ReturnType<typeof request>>, what: string) {
  assert.equal(r.status, 503, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.headers.get('content-type'), 'application/problem+json', what);
  assert.equal(r.headers.get('retry-after'), String(retryAfterSeconds), what);
  assert.equal(r.body.status, 503);
  assert.match(r.body.detail, /unavailable right now; retry in/);
}

describe('DynamoDB outage: 503, logged once, counted', () => {
  it('DynamoDB Local stopped: GET, PUT, DELETE, list, audit, resolve and apply answer 503 with Retry-After; one log line, one metric each', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portolan-outage-ddb-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await claimPort({ variable: 'OUTAGE_DYNAMODB_PORT', fallback: 0 }, {});
    const dynamo = await startDynamoDbLocal({
      cacheDir: resolve('node_modules', '.cache', 'portolan'),
      port,
      dataDir,
      credentials: state.aws,
    });
    cleanups.push(() => dynamo.child.stop());
    const setup = createDynamoDbClient({
      endpoint: dynamo.endpoint,
      region: state.region,
      credentials: state.aws,
    });
    await createTables(setup, tables);
    setup.destroy();
    const gateway = await apiAgainst(dynamo.endpoint);

    assert.equal((await request(gateway, 'PUT', '/v1/teams/before', team('before'))).status, 201);
    assert.equal((await request(gateway, 'GET', '/v1/teams/before')).status, 200);

    await dynamo.child.stop();
    emitted.length = 0;
    const calls: [string, string, unknown?][] = [
      ['GET', '/v1/teams/before'],
      ['PUT', '/v1/teams/during', team('during')],
      ['GET', '/v1/teams'],
      ['GET', '/v1/resolve?service.name=checkout'],
      ['DELETE', '/v1/teams/before'],
      ['GET', '/v1/audit?entity=team/before'],
      ['POST', '/v1/apply', { apiVersion: 'portolan/v1', entities: [{ kind: 'team', ...team('applied') }] }],
    ];
    for (const [method, path, body] of calls) {
      const r = await request(gateway, method, path, body);
      assertUnavailable(r, `${method} ${path}`);
      assert.ok(r.ms < 8_000, `${method} ${path} took ${r.ms} ms`);
    }

    const lines = logLines();
    const outageLogs = lines.filter((l) => /DynamoDB unavailable/.test(String(l.message)));
    assert.equal(outageLogs.length, 1, 'one log line for the whole outage interval');
    assert.equal(outageLogs[0]?.level, 'ERROR');
    assert.equal(outageLogs[0]?.requestsFailedSinceLastLog, 1);
    assert.equal(lines.filter((l) => l.message === 'unhandled error').length, 0, 'not logged as a bug');
    const counted = lines.filter((l) => {
      const directives = (l._aws as { CloudWatchMetrics?: { Metrics: { Name: string }[] }[] } | undefined)
        ?.CloudWatchMetrics;
      return directives?.some((d) => d.Metrics.some((m) => m.Name === apiMetrics.dependencyUnavailable));
    });
    assert.equal(counted.length, calls.length, 'one DependencyUnavailable datapoint per failed request');
    assert.ok(
      counted.every((l) => l[apiMetrics.dependencyUnavailable] === 1 && l.service === 'portolan-api'),
    );
  });

  it('a DynamoDB that accepts connections and never answers: 503 within the client timeouts', async () => {
    const sockets = new Set<Socket>();
    const blackHole = createServer((socket) => sockets.add(socket));
    await new Promise<void>((listening) => blackHole.listen(0, '127.0.0.1', listening));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((closed) => blackHole.close(closed));
    });
    const address = blackHole.address() as { port: number };
    const gateway = await apiAgainst(`http://127.0.0.1:${address.port}`);
    const r = await request(gateway, 'GET', '/v1/teams/anyone');
    assertUnavailable(r, 'GET against a black hole');
    assert.ok(r.ms < 8_000, `answered after ${r.ms} ms: within the API function's 10 s timeout`);
  });

  it('a table that does not exist is a bug, not an outage: 500, logged as unhandled', async () => {
    const gateway = await apiAgainst(state.dynamodb.endpoint, 'no-such-table');
    emitted.length = 0;
    const r = await request(gateway, 'GET', '/v1/teams/anyone');
    assert.equal(r.status, 500, JSON.stringify(r.body));
    assert.equal(r.headers.get('retry-after'), null);
    assert.equal(logLines().filter((l) => l.message === 'unhandled error').length, 1);
  });
});
