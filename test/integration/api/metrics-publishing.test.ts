/**
 * The API publishes metrics only for requests that recorded some: a read logs
 * no "No application metrics to publish" warning (a paid CloudWatch Logs line
 * per request), while a change still publishes its `CatalogChanges`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocalGateway } from '#infra/local/local-gateway';
import { apiMetrics, metricsNamespace, serviceNames } from '#shared/metrics/metric-names';
import { mintToken, readLocalStack } from '../../support/local-stack.ts';
import { unique } from './api-client.ts';
import { captureJsonOutput, send, startInProcessApi } from './in-process-api.ts';

const state = readLocalStack();

const { emitted, lines } = captureJsonOutput();
const noMetricsWarnings = () =>
  lines().filter((l) => String(l.message ?? '').includes('No application metrics to publish'));

let gateway: LocalGateway;
before(async () => {
  // Warnings logged and metrics published, as deployed (the test run quiets both).
  Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' });
  gateway = await startInProcessApi(state, state.dynamodb.endpoint, state.dynamodb.tables);
});
after(() => gateway?.stop());

const admin = () =>
  mintToken(state, { sub: 'metrics-admin', client_id: 'metrics-admin', scope: 'portolan/admin' });

async function request(method: string, path: string, body?: unknown) {
  const response = await send(gateway, admin(), method, path, body);
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
