/**
 * Peak memory of the enrich handler on one 6 MB batch (Lambda's invocation
 * payload limit), in a fresh process so nothing else is counted. Run by
 * bench/enrich/run.ts, which passes a DynamoDB Local endpoint with the catalog.
 * Prints one JSON line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeEnrichHandler } from '#functions/enrich/handler';
import { lambdaContext } from '#infra/local/lambda-context';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { kinesisBatch } from './batches.ts';

const mb = (bytes: number) => bytes / 1024 / 1024;
const client = createDocumentClient(
  new DynamoDBClient({
    endpoint: process.env.BENCH_DYNAMODB_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  }),
);
const table = process.env.BENCH_CATALOG_TABLE as string;
const logger = new Logger({ logLevel: 'ERROR' });
const handler = makeEnrichHandler({
  catalog: new CatalogCache({ client, table, ttlMs: 60_000 }),
  unowned: new UnownedTracker({ client, table, ttlMs: 60_000 }),
  format: 'auto',
  // Delivery's own buffers are the SDK's request body: counted by encoding it as the SDK would.
  deliver: async (records) => {
    JSON.stringify(records.map((r) => ({ Data: r.data.toString('base64'), PartitionKey: r.partitionKey })));
    return new Set();
  },
  logger,
  metrics: new Metrics({ logger, namespace: 'PortolanBench', serviceName: 'bench' }),
});

const baselineRssMB = mb(process.memoryUsage().rss);
// Lambda hands the function a JSON payload of at most 6 MB: the largest batch of these records that fits.
const full = kinesisBatch('OTLP protobuf traces', 10_000);
let size = 0;
const Records = full.Records.filter((r) => {
  size += JSON.stringify(r).length;
  return size <= 6 * 1024 * 1024;
});
const payload = JSON.stringify({ Records });
await handler(JSON.parse(payload), lambdaContext('portolan-enrich', 60_000, 'us-east-1'));
console.log(
  JSON.stringify({
    records: Records.length,
    payloadMB: mb(payload.length),
    batchMB: Records.reduce((n, r) => n + (r.kinesis.data.length * 3) / 4, 0) / 1e6,
    baselineRssMB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
process.exit(0);
