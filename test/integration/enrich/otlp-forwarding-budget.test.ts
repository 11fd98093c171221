/**
 * The enrich handler with OTLP forwarding to a slow real HTTP receiver and
 * little invocation time left: it forwards what fits in the time budget,
 * counts the rest, and completes the batch (no batch item failures, no throw),
 * well before the invocation's timeout.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { makeEnrichHandler } from '#functions/enrich/handler';
import { makeOtlpForwarder } from '#functions/enrich/otlp-forwarder';
import { lambdaContext } from '#infra/local/lambda-context';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import type { OutputRecord } from '#shared/telemetry/enrich-records';
import { readLocalStack } from '../../support/local-stack.ts';
import { sdkTraceRequest } from '../../support/telemetry-payloads.ts';

let received = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    setTimeout(() => res.end(), 300);
  });
});
let endpoint = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

describe('enrich handler with OTLP forwarding', () => {
  it('stops forwarding within the invocation’s remaining time, counting what it did not send, and completes the batch', async () => {
    const state = readLocalStack();
    const documents = createDocumentClient(
      new DynamoDBClient({ endpoint: state.dynamodb.endpoint, region: state.region, credentials: state.aws }),
    );
    const table = state.dynamodb.tables.catalog;
    const delivered: OutputRecord[] = [];
    const warnings: unknown[] = [];
    const logger = new Logger({ logLevel: 'CRITICAL' });
    logger.warn = (...args: unknown[]) => void warnings.push(args);
    const handler = makeEnrichHandler({
      catalog: new CatalogCache({ client: documents, table, ttlMs: 1_000 }),
      unowned: new UnownedTracker({ client: documents, table, ttlMs: 1_000 }),
      format: 'auto',
      deliver: async (records) => {
        delivered.push(...records);
        return new Set();
      },
      // Every record alone (smaller bound than a record), two at a time, 300 ms each.
      forward: makeOtlpForwarder({ endpoint, maxRequestBytes: 1_024, concurrency: 2 }),
      logger,
      metrics: new Metrics({ logger, namespace: 'PortolanTest', serviceName: 'forwarding-budget' }),
    });
    const event: KinesisStreamEvent = {
      Records: Array.from({ length: 40 }, (_, i) => ({
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${i}`,
        eventName: 'aws:kinesis:record',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/in',
        awsRegion: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/enrich',
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: `k-${i}`,
          sequenceNumber: String(1_000 + i),
          approximateArrivalTimestamp: 0,
          data: sdkTraceRequest({ 'service.name': `budget-${i}` }, 3, 'json').toString('base64'),
        },
      })),
    };

    // 9 s left; forwarding gets what remains after enrichment less the default 5 s
    // reserve for the work after it (the unowned-source flush): all 40 would take 6 s.
    const started = Date.now();
    const response = await handler(event, lambdaContext('enrich', 9_000));
    const took = Date.now() - started;

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(delivered.length, 40);
    assert.ok(took < 8_900, `returned after ${took} ms of 9,000`);
    assert.ok(received >= 4 && received < 40, `${received} of 40 forwarded`);
    const warning = warnings.find((w) => (w as unknown[])[0] === 'OTLP forwarding failed for some records') as
      | [string, { failed: number; outOfTime: number }]
      | undefined;
    assert.ok(warning, 'the records not forwarded are reported');
    assert.ok(warning[1].failed >= 40 - received && warning[1].outOfTime > 0);
  });
});
