/**
 * The enrich function: a Kinesis batch in, the same records with `ownership.*`
 * stamped out to the output stream (and optionally an OTLP/HTTP endpoint).
 * Delivery is at-least-once: records that could not be written are reported as
 * batch item failures, so Lambda retries from the first of them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { deliverToKinesis } from '#functions/enrich/kinesis-delivery';
import { makeOtlpForwarder, type OtlpPayload } from '#functions/enrich/otlp-forwarder';
import { createKinesisClient } from '#shared/aws/kinesis-client';
import { requiredEnv } from '#shared/config/required-env';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { enrichRecords, type OutputRecord } from '#shared/telemetry/enrich-records';
import { type InputFormat, inputFormats } from '#shared/telemetry/record-codec';

export interface EnrichDeps {
  catalog: CatalogCache;
  unowned: UnownedTracker;
  format: InputFormat;
  deliver: (records: OutputRecord[]) => Promise<Set<string>>;
  forward?: (payloads: OtlpPayload[]) => Promise<{ sent: number; failed: number }>;
  logger: Logger;
  metrics: Metrics;
}

export function makeEnrichHandler(deps: EnrichDeps) {
  const { logger, metrics } = deps;
  return middy<KinesisStreamEvent, KinesisStreamBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async (event) => {
      const records = event.Records.map((r) => ({
        id: r.kinesis.sequenceNumber,
        partitionKey: r.kinesis.partitionKey,
        data: Buffer.from(r.kinesis.data, 'base64'),
      }));
      const before = { ...deps.catalog.stats };
      const { outputs, counts } = await enrichRecords(records, {
        catalog: deps.catalog,
        format: deps.format,
        onUnowned: (source) => deps.unowned.record(source),
      });
      const failed = await deps.deliver(outputs);
      if (deps.forward) {
        const otlp = outputs.filter((o) => o.otlp && !failed.has(o.id));
        const forwarded = await deps.forward(
          otlp.map((o) => ({ ...(o.otlp as Omit<OtlpPayload, 'data'>), data: o.data })),
        );
        metrics.addMetric('OtlpForwardFailures', MetricUnit.Count, forwarded.failed);
        if (forwarded.failed)
          logger.warn('OTLP forwarding failed for some requests', { failed: forwarded.failed });
      }
      await deps.unowned.flush();

      const stats = deps.catalog.stats;
      const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
      count('RecordsIn', counts.recordsIn);
      count('RecordsEnriched', counts.recordsEnriched);
      count('RecordsPassedThrough', counts.recordsPassedThrough);
      count('ControlMessages', counts.controlMessages);
      count('SourcesOwned', counts.sourcesOwned);
      count('RecordsUnowned', counts.sourcesUnowned);
      count('RecordsUnresolved', counts.sourcesUnresolved);
      const hits = stats.hits - before.hits;
      const misses = stats.misses - before.misses;
      count('CacheHits', hits);
      count('CacheMisses', misses);
      if (hits + misses > 0)
        metrics.addMetric('CacheHitRatio', MetricUnit.Percent, (100 * hits) / (hits + misses));
      count('CatalogReads', stats.catalogReads - before.catalogReads);
      count('DeliveryFailures', failed.size);
      if (failed.size) logger.warn('records not delivered; Lambda will retry them', { failed: failed.size });

      // Lambda resumes from the lowest failed sequence number; naming them all is harmless.
      return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

/** Dependencies from the function's environment; no network until the first batch. */
export function enrichDepsFromEnv(env: NodeJS.ProcessEnv = process.env): EnrichDeps {
  const table = requiredEnv('CATALOG_TABLE', env);
  const ttlMs = Number(env.CACHE_TTL_SECONDS ?? 60) * 1000;
  const format = (env.INPUT_FORMAT ?? 'auto') as InputFormat;
  if (!inputFormats.includes(format))
    throw new Error(`INPUT_FORMAT must be one of ${inputFormats.join(', ')}`);
  const client = createDocumentClient();
  const kinesis = createKinesisClient();
  const streamName = requiredEnv('OUTPUT_STREAM', env);
  const logger = new Logger();
  return {
    catalog: new CatalogCache({ client, table, ttlMs }),
    unowned: new UnownedTracker({ client, table, ttlMs }),
    format,
    deliver: (records) => deliverToKinesis(records, { client: kinesis, streamName }),
    ...(env.OTLP_ENDPOINT
      ? {
          forward: makeOtlpForwarder({
            endpoint: env.OTLP_ENDPOINT,
            ...(env.OTLP_TOKEN_SECRET_ARN ? { tokenSecretArn: env.OTLP_TOKEN_SECRET_ARN } : {}),
            ...(env.OTLP_TOKEN_HEADER ? { tokenHeader: env.OTLP_TOKEN_HEADER } : {}),
          }),
        }
      : {}),
    logger,
    metrics: new Metrics({ logger }),
  };
}

export const handler = makeEnrichHandler(enrichDepsFromEnv());
