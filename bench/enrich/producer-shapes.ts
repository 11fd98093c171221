/**
 * Records as real producers write them, each built by that producer's own
 * serializer where it exists in JavaScript:
 *
 * - OTLP protobuf and OTLP/JSON traces, one resource and 100 spans per record
 *   (what the Collector's `awskinesis` exporter writes: one record per
 *   `ResourceSpans`), plain and gzip. Spans come from the OpenTelemetry JS SDK
 *   and are serialized by its `ProtobufTraceSerializer` / `JsonTraceSerializer`
 *   (the same OTLP messages the Collector's Go marshaller writes); gzip is
 *   Node's zlib at the default level.
 * - KPL aggregates of 10 such protobuf records, built by aws-kinesis-agg's
 *   `RecordAggregator` (the KPL's aggregation format).
 * - CloudWatch Logs subscription envelopes of 50 events, gzip, as AWS
 *   documents them.
 * - Single JSON log lines of ~300 bytes, one per record (Fluent Bit's Kinesis
 *   output).
 *
 * Batches are what one invocation gets: up to 10,000 records and at most the
 * 6 MB of Lambda's invocation payload (base64: ~4.4 MB of record data).
 */
import { gzipSync } from 'node:zlib';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { RecordAggregator } from 'aws-kinesis-agg';
import type { Repository, Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { type CatalogSnapshot, environmentAttributes } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import type { OwnershipSource } from '#shared/telemetry/enrich-records';
import { cloudWatchLogsPayload } from '../../test/support/telemetry-payloads.ts';

export const shapes = [
  'OTLP protobuf, 100 spans',
  'OTLP protobuf gzip, 100 spans',
  'OTLP/JSON, 100 spans',
  'OTLP/JSON gzip, 100 spans',
  'KPL aggregate of 10 OTLP protobuf',
  'CloudWatch Logs, 50 events',
  'JSON log line, ~300 B',
] as const;
export type Shape = (typeof shapes)[number];

const serviceCount = 20;
/** One record in twenty from a source nobody owns. */
const serviceOf = (i: number) => (i % 20 === 19 ? `unowned-${i % 7}` : `svc-${i % serviceCount}`);

/** 100 spans of one service, as an instrumented HTTP handler produces them, serialized by the SDK. */
function traceRequest(service: string, encoding: 'protobuf' | 'json', seed: number): Buffer {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.version': '1.42.0',
      'deployment.environment.name': 'prod',
      'cloud.provider': 'aws',
      'cloud.region': 'eu-west-1',
      'faas.name': `${service}-handler`,
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '2.0.1',
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-http', '0.57.0');
  for (let i = 0; i < 100; i++) {
    const span = tracer.startSpan(i % 4 === 0 ? 'GET /orders/:id' : `SELECT orders ${i % 4}`, {
      attributes:
        i % 4 === 0
          ? {
              'http.request.method': 'GET',
              'http.route': '/orders/:id',
              'url.path': `/orders/${seed * 1000 + i}`,
              'http.response.status_code': 200,
              'server.address': 'api.example.com',
              'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
            }
          : {
              'db.system': 'dynamodb',
              'db.operation.name': 'GetItem',
              'aws.dynamodb.table_names': ['orders'],
              'rpc.service': 'DynamoDB',
            },
    });
    span.end();
  }
  const serializer = encoding === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer;
  return Buffer.from(serializer.serializeRequest(exporter.getFinishedSpans()) as Uint8Array);
}

function logLine(service: string, i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      time: '2026-11-25T10:00:00.000Z',
      level: 'INFO',
      'service.name': service,
      msg: `order ${i} paid`,
      'order.id': `ord-${100_000 + i}`,
      amount: (i % 97) + 0.99,
      currency: 'EUR',
      'trace.id': '5b8efff798038103d269b633813fc60c',
      'span.id': 'eee19b7ec3c1b174',
      'http.route': '/orders/:id',
      'host.name': 'ip-10-0-12-34.eu-west-1.compute.internal',
    }),
  );
}

function cloudWatchEnvelope(service: string, i: number): Buffer {
  return cloudWatchLogsPayload(
    `/aws/lambda/${service}-handler`,
    Array.from({ length: 50 }, (_, n) =>
      n === 0
        ? `START RequestId: 8f5d0e2a-${i} Version: $LATEST`
        : `2026-11-25T10:00:00.${String(n).padStart(3, '0')}Z\t8f5d0e2a-${i}\tINFO\t{"level":"INFO","msg":"order ${i}.${n} paid","amount":${n % 97},"trace.id":"5b8efff798038103d269b633813fc60c"}`,
    ),
  );
}

/** The KPL writes one aggregate of user records; 10 here, each a 100-span protobuf request. */
function kplAggregate(i: number): Buffer {
  const aggregator = new RecordAggregator();
  for (let n = 0; n < 10; n++)
    aggregator.addUserRecord({
      partitionKey: `pk-${i}-${n}`,
      data: traceRequest(serviceOf(i * 10 + n), 'protobuf', i * 10 + n),
    });
  return aggregator.build().data;
}

function record(shape: Shape, i: number): Buffer {
  const service = serviceOf(i);
  switch (shape) {
    case 'OTLP protobuf, 100 spans':
      return traceRequest(service, 'protobuf', i);
    case 'OTLP protobuf gzip, 100 spans':
      return gzipSync(traceRequest(service, 'protobuf', i));
    case 'OTLP/JSON, 100 spans':
      return traceRequest(service, 'json', i);
    case 'OTLP/JSON gzip, 100 spans':
      return gzipSync(traceRequest(service, 'json', i));
    case 'KPL aggregate of 10 OTLP protobuf':
      return kplAggregate(i);
    case 'CloudWatch Logs, 50 events':
      return cloudWatchEnvelope(service, i);
    case 'JSON log line, ~300 B':
      return logLine(service, i);
  }
}

/** Lambda's invocation payload is 6 MB; Kinesis record data arrives base64 in it. */
const batchDataBytes = 4.4e6;

/** One invocation's worth of records of `shape`: `distinct` different ones, repeated. */
export function producerBatch(shape: Shape, distinct = 40): { partitionKey: string; data: Buffer }[] {
  const records = Array.from({ length: distinct }, (_, i) => record(shape, i));
  const average = records.reduce((n, r) => n + r.length, 0) / records.length;
  const count = Math.max(1, Math.min(10_000, Math.floor(batchDataBytes / average)));
  return Array.from({ length: count }, (_, i) => ({
    partitionKey: `pk-${i}`,
    data: records[i % records.length] as Buffer,
  }));
}

/**
 * The benchmark's catalog in memory (the enricher's warm cache holds the
 * same): 20 services in 5 teams, each with a repository, tier, lifecycle and
 * runbook, and a selector on its Lambda log group.
 */
export function producerCatalog(): OwnershipSource {
  const services = new Map<string, Service>();
  const teams = new Map<string, Team>();
  const repositories = new Map<string, Repository>();
  for (let t = 0; t < 5; t++)
    teams.set(`team-${t}`, {
      id: `team-${t}`,
      name: `Team ${t}`,
      contacts: { slack: `#team-${t}`, email: `team-${t}@example.com` },
    } as Team);
  for (let s = 0; s < serviceCount; s++) {
    repositories.set(`repo-${s}`, {
      id: `repo-${s}`,
      url: `https://github.com/example/repo-${s}`,
    } as Repository);
    services.set(`svc-${s}`, {
      id: `svc-${s}`,
      name: `Service ${s}`,
      team: `team-${s % 5}`,
      repository: `repo-${s}`,
      tier: 'tier-1',
      lifecycle: 'production',
      runbook: `https://runbooks.example.com/svc-${s}`,
      selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: `/aws/lambda/svc-${s}-` }],
    } as Service);
  }
  const matcher = compileSelectors(
    [...services.values()].map((service) => ({ id: service.id, selectors: service.selectors ?? [] })),
  );
  const snapshot: CatalogSnapshot = {
    service: (id) => services.get(id),
    team: (id) => teams.get(id),
    repository: (id) => repositories.get(id),
    environment: () => undefined,
    selectors: () => matcher,
  };
  // As the catalog cache answers it: service.name, the environment, what selectors name.
  const relevant = new Set(['service.name', ...environmentAttributes, ...matcher.attributes]);
  return {
    relevantAttributes: async () => relevant,
    prefetch: async (_: SourceAttributes[]) => undefined,
    snapshot: () => snapshot,
  };
}
