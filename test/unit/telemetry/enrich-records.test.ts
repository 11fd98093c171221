import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import type { CatalogSnapshot } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import { enrichRecords, type OwnershipSource } from '#shared/telemetry/enrich-records';
import { cloudWatchLogsPayload, otlpFixture, sdkTraceRequest } from '../../support/telemetry-payloads.ts';

const services: Record<string, Service> = { checkout: { id: 'checkout', team: 'payments' } };
const teams: Record<string, Team> = { payments: { id: 'payments', name: 'Payments', contacts: {} } };

/** An in-memory catalog that remembers what it was asked to prefetch. */
function catalog(available = true) {
  const prefetched: SourceAttributes[][] = [];
  const snapshot: CatalogSnapshot = {
    service: (id) => (available ? services[id] : 'unavailable'),
    team: (id) => (available ? teams[id] : 'unavailable'),
    repository: () => undefined,
    environment: () => undefined,
    selectors: () => (available ? compileSelectors([]) : 'unavailable'),
  };
  const source: OwnershipSource = {
    prefetch: async (sources) => {
      prefetched.push(sources);
    },
    snapshot: () => snapshot,
  };
  return { source, prefetched };
}

const record = (id: string, data: Buffer) => ({ id, partitionKey: `pk-${id}`, data });

describe('enrichRecords', () => {
  it('every record comes out, in order, with its id and partition key; counts add up', async () => {
    const unowned: SourceAttributes[] = [];
    const { source, prefetched } = catalog();
    const input = [
      record('1', sdkTraceRequest({ 'service.name': 'checkout' })),
      record('2', Buffer.from('garbage \x00\x01')),
      record('3', otlpFixture('trace')),
      record('4', cloudWatchLogsPayload('', [], 'CONTROL_MESSAGE')),
      record('5', sdkTraceRequest({ 'service.name': 'checkout' })),
    ];
    const { outputs, counts } = await enrichRecords(input, {
      catalog: source,
      format: 'auto',
      onUnowned: (s) => unowned.push(s),
    });
    assert.deepEqual(
      outputs.map((o) => [o.id, o.partitionKey]),
      input.map((r) => [r.id, r.partitionKey]),
    );
    assert.deepEqual(counts, {
      recordsIn: 5,
      recordsEnriched: 3,
      recordsPassedThrough: 2,
      passedThrough: { 'control-message': 1, undecodable: 1 },
      firstPassThrough: {
        'control-message': { id: '4', reason: 'CloudWatch Logs control message' },
        undecodable: { id: '2', reason: 'not a recognised telemetry encoding' },
      },
      controlMessages: 1,
      sourcesOwned: 2,
      sourcesUnowned: 1,
      sourcesUnresolved: 0,
    });
    assert.equal(prefetched.length, 1, 'one prefetch for the whole batch');
    assert.deepEqual(unowned, [{ 'service.name': 'my.service' }]);
    assert.deepEqual(outputs[1]?.data, input[1]?.data, 'undecodable record unchanged');
    assert.deepEqual(outputs[0]?.otlp, { signal: 'traces', protobuf: true, compression: 'none' });
  });

  it('resolves each distinct source once, however many lines repeat it, and prefetches it once', async () => {
    const { source, prefetched } = catalog();
    let lookups = 0;
    const counted: OwnershipSource = {
      relevantAttributes: async () => new Set(['service.name']),
      prefetch: source.prefetch,
      snapshot: () => {
        const snapshot = source.snapshot();
        return {
          ...snapshot,
          service: (id) => {
            lookups++;
            return snapshot.service(id);
          },
        };
      },
    };
    const lines = (n: number, service: string) =>
      Buffer.from(
        Array.from({ length: n }, (_, i) =>
          JSON.stringify({ 'service.name': service, msg: `line ${i}` }),
        ).join('\n'),
      );
    const { outputs, counts } = await enrichRecords(
      [record('1', lines(5, 'checkout')), record('2', lines(3, 'checkout')), record('3', lines(2, 'nobody'))],
      { catalog: counted, format: 'auto' },
    );
    assert.equal(lookups, 2, 'one resolve for checkout, one for nobody');
    assert.deepEqual(prefetched, [[{ 'service.name': 'checkout' }, { 'service.name': 'nobody' }]]);
    assert.deepEqual([counts.sourcesOwned, counts.sourcesUnowned], [8, 2]);
    const stamped = outputs.flatMap((o) =>
      o.data
        .toString()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    assert.equal(stamped.length, 10);
    assert.deepEqual(
      stamped.map((l) => [l.msg, l['ownership.team'] ?? l['ownership.status']]),
      [0, 1, 2, 3, 4, 0, 1, 2, 0, 1].map((i, k) => [`line ${i}`, k < 8 ? 'payments' : 'unowned']),
    );
  });

  it('a catalog outage stamps unresolved instead of failing', async () => {
    const { outputs, counts } = await enrichRecords([record('1', otlpFixture('logs'))], {
      catalog: catalog(false).source,
      format: 'auto',
    });
    assert.equal(counts.sourcesUnresolved, 1);
    assert.match(
      outputs[0]?.data.toString() ?? '',
      /"ownership.status","value":\{"stringValue":"unresolved"/,
    );
  });

  it('a record that would exceed the Kinesis record limit once enriched passes through as it came', async () => {
    const input = otlpFixture('trace');
    const { outputs, counts } = await enrichRecords([record('1', input)], {
      catalog: catalog().source,
      format: 'auto',
      maxRecordBytes: 200,
    });
    assert.equal(counts.recordsPassedThrough, 1);
    assert.deepEqual(outputs[0]?.data, input);
  });
});
