/**
 * The enrich function: a Kinesis batch in, the same records with `ownership.*`
 * stamped out to the output stream (and optionally an OTLP/HTTP endpoint).
 * Delivery is at-least-once: records that could not be written are reported as
 * batch item failures, so Lambda retries from the first of them. Records that
 * cannot be stamped go out as they came, or, with a quarantine stream, there.
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
import { wholeNumberFromEnv } from '#shared/config/env-numbers';
import { requiredEnv } from '#shared/config/required-env';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { DecompressionBudget } from '#shared/telemetry/compression';
import { enrichRecords, type OutputRecord } from '#shared/telemetry/enrich-records';
import { type InputFormat, inputFormats, type PassThroughReason } from '#shared/telemetry/record-codec';

export interface EnrichDeps {
  catalog: CatalogCache;
  unowned: UnownedTracker;
  format: InputFormat;
  deliver: (records: OutputRecord[]) => Promise<Set<string>>;
  /**
   * Where records that are not stamped go instead of the output stream (the
   * `quarantine` option), so that the output carries only what Portolan
   * vouches for. Absent: they go to the output stream as they came (`passthrough`).
   */
  quarantine?: (records: OutputRecord[]) => Promise<Set<string>>;
  /** The output (and quarantine) stream's maximum record size. @default 1 MiB */
  maxRecordBytes?: number;
  /** The function's memory, which sizes each invocation's decompression budget. @default 1024 */
  memoryMiB?: number;
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
      const before = { ...deps.catalog.stats, unownedDropped: deps.unowned.stats.dropped };
      const { outputs, counts } = await enrichRecords(records, {
        catalog: deps.catalog,
        format: deps.format,
        onUnowned: (source) => deps.unowned.record(source),
        budget: DecompressionBudget.forMemory(deps.memoryMiB ?? 1024),
        ...(deps.maxRecordBytes ? { maxRecordBytes: deps.maxRecordBytes } : {}),
        strict: deps.quarantine !== undefined,
      });
      const quarantined = deps.quarantine ? outputs.filter((o) => o.passThrough) : [];
      const failed = await deps.deliver(deps.quarantine ? outputs.filter((o) => !o.passThrough) : outputs);
      if (deps.quarantine) for (const id of await deps.quarantine(quarantined)) failed.add(id);
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
      count('RecordsQuarantined', quarantined.length);
      for (const [reason, n] of Object.entries(counts.passedThrough)) count(passThroughMetric(reason), n);
      logPassThroughs(logger, counts.firstPassThrough, counts.passedThrough);
      count('ControlMessages', counts.controlMessages);
      count('SourcesOwned', counts.sourcesOwned);
      count('RecordsUnowned', counts.sourcesUnowned);
      count('RecordsUnresolved', counts.sourcesUnresolved);
      count('UnownedSourcesDropped', deps.unowned.stats.dropped - before.unownedDropped);
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

/** `decompression-budget` → `PassedThroughDecompressionBudget`. */
const passThroughMetric = (reason: string) =>
  `PassedThrough${reason.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`;

/** One warning per batch naming each reason's count and first record; control messages and empty records are routine. */
function logPassThroughs(
  logger: Logger,
  first: Partial<Record<PassThroughReason, { id: string; reason: string }>>,
  counts: Partial<Record<PassThroughReason, number>>,
) {
  const notable = Object.entries(first).filter(([why]) => why !== 'control-message' && why !== 'empty');
  if (notable.length === 0) return;
  logger.warn('records passed through without ownership', {
    passedThrough: Object.fromEntries(
      notable.map(([why, example]) => [why, { count: counts[why as PassThroughReason], first: example }]),
    ),
  });
}

/** Dependencies from the function's environment; no network until the first batch. */
export function enrichDepsFromEnv(env: NodeJS.ProcessEnv = process.env): EnrichDeps {
  const table = requiredEnv('CATALOG_TABLE', env);
  const ttlMs = wholeNumberFromEnv(env, 'CACHE_TTL_SECONDS', 60, { max: 86_400, meaning: 'seconds' }) * 1000;
  const format = (env.INPUT_FORMAT ?? 'auto') as InputFormat;
  if (!inputFormats.includes(format))
    throw new Error(`INPUT_FORMAT must be one of ${inputFormats.join(', ')}`);
  const client = createDocumentClient();
  const kinesis = createKinesisClient();
  const streamName = requiredEnv('OUTPUT_STREAM', env);
  const unvouched = env.UNVOUCHED_RECORDS ?? 'passthrough';
  if (unvouched !== 'passthrough' && unvouched !== 'quarantine')
    throw new Error('UNVOUCHED_RECORDS must be passthrough or quarantine');
  const quarantineStream = unvouched === 'quarantine' ? requiredEnv('QUARANTINE_STREAM', env) : undefined;
  const maxRecordBytes = wholeNumberFromEnv(env, 'MAX_RECORD_BYTES', 1024 * 1024, {
    min: 1024 * 1024,
    max: 10 * 1024 * 1024,
    meaning: 'the stream maximum record size, 1-10 MiB in bytes',
  });
  const logger = new Logger();
  return {
    catalog: new CatalogCache({ client, table, ttlMs }),
    unowned: new UnownedTracker({ client, table, ttlMs }),
    format,
    deliver: (records) => deliverToKinesis(records, { client: kinesis, streamName }),
    ...(quarantineStream
      ? {
          quarantine: (records: OutputRecord[]) =>
            deliverToKinesis(records, { client: kinesis, streamName: quarantineStream }),
        }
      : {}),
    maxRecordBytes,
    memoryMiB: wholeNumberFromEnv(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 1024, {
      min: 128,
      max: 10_240,
      meaning: 'MiB',
    }),
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
