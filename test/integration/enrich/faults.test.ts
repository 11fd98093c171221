/**
 * Nothing is lost when parts fail. Each case runs its own pipeline — the real
 * enrich handler, fed by the local event source mapping (poller), on its own
 * streams in the stack's kinesis-mock — so that it can break things without
 * disturbing other tests: a DynamoDB Local of its own that it stops, an output
 * stream that does not exist yet, a handler that crashes halfway through a
 * batch. In every case: records out (enriched or passed through) = records in,
 * duplicates only where a batch was retried after part of it was written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { _Record, KinesisClient } from '@aws-sdk/client-kinesis';
import { type EnrichDeps, makeEnrichHandler } from '#functions/enrich/handler';
import { deliverToKinesis } from '#functions/enrich/kinesis-delivery';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { type KinesisPoller, startKinesisPoller } from '#infra/local/kinesis-poller';
import { claimPort } from '#infra/local/ports';
import { createStreams, createTables } from '#infra/local/provision';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import type { OutputRecord } from '#shared/telemetry/enrich-records';
import { createIsolatedTables } from '../../support/isolated-tables.ts';
import { collect, kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import { readLocalStack } from '../../support/local-stack.ts';
import { otlpProto, sdkTraceRequest } from '../../support/telemetry-payloads.ts';

const state = readLocalStack();
const kinesis = kinesisFor(state);
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const ctx = { actor: { iss: 'test', sub: 'faults' }, requestId: 'faults' } as never;

/** A catalog with one service, `checkout`, owned by `payments`. */
async function seedCatalog(client: DynamoDBClient, catalogTable: string, auditTable: string) {
  const store = makeDynamoCatalogStore({ client: createDocumentClient(client), catalogTable, auditTable });
  await store.put('team', { id: 'payments', name: 'Payments', contacts: {} }, undefined, ctx);
  await store.put('service', { id: 'checkout', team: 'payments' }, undefined, ctx);
}

interface Pipeline {
  input: string;
  output: string;
  poller: KinesisPoller;
  failedBatchesFile: string;
}

async function startPipeline(options: {
  dynamo: DynamoDBClient;
  catalogTable: string;
  createOutput?: boolean;
  wrapDeliver?: (deliver: EnrichDeps['deliver']) => EnrichDeps['deliver'];
  maxRetries?: number;
}): Promise<Pipeline> {
  const run = randomUUID().slice(0, 8);
  const names = { input: `faults-in-${run}`, output: `faults-out-${run}` };
  await createStreams(kinesis, names);
  if (options.createOutput === false) await deleteStream(kinesis, names.output);
  const documents = createDocumentClient(options.dynamo);
  const deliver: EnrichDeps['deliver'] = (records: OutputRecord[]) =>
    deliverToKinesis(records, { client: kinesis, streamName: names.output, maxAttempts: 2 });
  const logger = new Logger({ logLevel: 'CRITICAL' });
  const handler = makeEnrichHandler({
    catalog: new CatalogCache({ client: documents, table: options.catalogTable, ttlMs: 300 }),
    unowned: new UnownedTracker({ client: documents, table: options.catalogTable, ttlMs: 300 }),
    format: 'auto',
    deliver: options.wrapDeliver ? options.wrapDeliver(deliver) : deliver,
    logger,
    metrics: new Metrics({ logger, namespace: 'PortolanTest', serviceName: 'faults' }),
  });
  const failedBatchesFile = join(mkdtempSync(join(tmpdir(), 'portolan-faults-')), 'failed-batches.jsonl');
  const poller = startKinesisPoller({
    client: kinesis,
    streamName: names.input,
    region: state.region,
    handler: handler as never,
    batchSize: 50,
    maxRetries: options.maxRetries ?? 30,
    pollIntervalMs: 50,
    failedBatchesFile,
  });
  cleanups.push(poller.stop);
  return { ...names, poller, failedBatchesFile };
}

async function deleteStream(client: KinesisClient, name: string) {
  const { DeleteStreamCommand, DescribeStreamSummaryCommand } = await import('@aws-sdk/client-kinesis');
  await client.send(new DeleteStreamCommand({ StreamName: name }));
  for (let i = 0; i < 100; i++) {
    try {
      await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      return;
    }
  }
}

const records = (run: string, n: number, service = 'checkout') =>
  Array.from({ length: n }, (_, i) => ({
    partitionKey: `${run}-${i}`,
    data: i % 10 === 9 ? Buffer.from(`poison ${i} \u0000`) : sdkTraceRequest({ 'service.name': service }, 1),
  }));

/** Collects the output of `input` records, checking that every one came out. */
async function outputOf(
  pipeline: Pipeline,
  input: { partitionKey: string; data: Buffer }[],
  timeoutMs = 60_000,
) {
  const keys = new Set(input.map((r) => r.partitionKey));
  const out = await collect(kinesis, pipeline.output, {
    keep: (r: _Record) => keys.has(r.PartitionKey as string),
    done: (kept) => new Set(kept.map((r) => r.PartitionKey)).size >= keys.size,
    timeoutMs,
    settleMs: 1_000,
  });
  const seen = new Set(out.map((r) => r.PartitionKey));
  const missing = [...keys].filter((k) => !seen.has(k));
  assert.deepEqual(missing, [], 'records lost');
  for (const record of input.filter((r) => r.data.toString().startsWith('poison'))) {
    const came = out.find((r) => r.PartitionKey === record.partitionKey);
    assert.deepEqual(
      Buffer.from(came?.Data as Uint8Array),
      record.data,
      'poison record passed through unchanged',
    );
  }
  return out;
}

const statusOf = (record: _Record) => {
  const request = otlpProto.traces.toObject(otlpProto.traces.decode(record.Data as Uint8Array)) as {
    resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[];
  };
  const attributes = request.resourceSpans[0]?.resource.attributes ?? [];
  const get = (key: string) => attributes.find((a) => a.key === key)?.value.stringValue;
  return { status: get('ownership.status'), team: get('ownership.team') };
};
const isPoison = (r: _Record) =>
  Buffer.from(r.Data as Uint8Array)
    .toString()
    .startsWith('poison');

describe('enrichment under faults: nothing is lost', () => {
  it('DynamoDB stopped mid-stream: cached owners kept, new sources unresolved, the shard never stalls', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portolan-faults-ddb-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await claimPort({ variable: 'FAULTS_DYNAMODB_PORT', fallback: 0 }, {});
    const startDynamo = () =>
      startDynamoDbLocal({
        cacheDir: resolve('node_modules', '.cache', 'portolan'),
        port,
        dataDir,
        credentials: state.aws,
      });
    let dynamoLocal = await startDynamo();
    cleanups.push(() => dynamoLocal.child.stop());
    const dynamo = new DynamoDBClient({
      endpoint: dynamoLocal.endpoint,
      region: state.region,
      credentials: state.aws,
      maxAttempts: 2,
    });
    const tables = { catalog: 'catalog', audit: 'audit' };
    await createTables(dynamo, tables);
    await seedCatalog(dynamo, tables.catalog, tables.audit);
    const pipeline = await startPipeline({ dynamo, catalogTable: tables.catalog });

    const run = randomUUID().slice(0, 8);
    const first = records(`${run}-a`, 20);
    await putRecords(kinesis, pipeline.input, first);
    const firstOut = await outputOf(pipeline, first);
    assert.ok(firstOut.filter((r) => !isPoison(r)).every((r) => statusOf(r).team === 'payments'));

    await dynamoLocal.child.stop();
    await new Promise((r) => setTimeout(r, 500)); // past the cache TTL: every read now fails
    const during = [...records(`${run}-b`, 20), ...records(`${run}-c`, 10, 'never-seen')];
    await putRecords(kinesis, pipeline.input, during);
    const duringOut = await outputOf(pipeline, during);
    assert.equal(duringOut.length, during.length, 'no duplicates: nothing failed to write');
    for (const record of duringOut.filter((r) => !isPoison(r))) {
      const { status, team } = statusOf(record);
      if (record.PartitionKey?.startsWith(`${run}-b`))
        assert.deepEqual({ status, team }, { status: 'owned', team: 'payments' }, 'stale-if-error');
      else assert.equal(status, 'unresolved');
    }

    dynamoLocal = await startDynamo();
    const recovered = records(`${run}-d`, 10, 'never-seen');
    await putRecords(kinesis, pipeline.input, recovered);
    const recoveredOut = await outputOf(pipeline, recovered);
    assert.ok(recoveredOut.filter((r) => !isPoison(r)).every((r) => statusOf(r).status === 'unowned'));
  });

  it('output stream missing: batches are retried until it exists, then every record comes out once', async () => {
    const isolated = await createIsolatedTables();
    await seedCatalog(isolated.client, isolated.catalogTable, isolated.auditTable);
    const pipeline = await startPipeline({
      dynamo: isolated.client,
      catalogTable: isolated.catalogTable,
      createOutput: false,
    });
    const input = records(randomUUID().slice(0, 8), 120);
    await putRecords(kinesis, pipeline.input, input);
    while (pipeline.poller.stats.retries < 3) await new Promise((r) => setTimeout(r, 100));
    await createStreams(kinesis, { input: pipeline.input, output: pipeline.output });
    const out = await outputOf(pipeline, input);
    assert.equal(out.length, input.length, 'exactly once: no batch was partly written');
  });

  it('a handler crash halfway through a batch: the batch is retried, duplicates only of what was written', async () => {
    const isolated = await createIsolatedTables();
    await seedCatalog(isolated.client, isolated.catalogTable, isolated.auditTable);
    const written = new Set<string>();
    let crashed = false;
    const pipeline = await startPipeline({
      dynamo: isolated.client,
      catalogTable: isolated.catalogTable,
      wrapDeliver: (deliver) => async (outputs) => {
        if (crashed || outputs.length < 10) return deliver(outputs);
        crashed = true;
        const half = outputs.slice(0, Math.floor(outputs.length / 2));
        await deliver(half);
        for (const r of half) written.add(r.partitionKey);
        throw new Error('simulated crash after writing half the batch');
      },
    });
    const input = records(randomUUID().slice(0, 8), 100);
    await putRecords(kinesis, pipeline.input, input);
    const out = await outputOf(pipeline, input);
    assert.ok(crashed, 'the crash happened');
    const counts = new Map<string, number>();
    for (const r of out)
      counts.set(r.PartitionKey as string, (counts.get(r.PartitionKey as string) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
    assert.ok(duplicated.length > 0, 'the retried batch rewrote what had been written');
    assert.deepEqual(
      duplicated.filter((k) => !written.has(k)),
      [],
      'only records written before the crash are duplicated',
    );
    assert.ok([...counts.values()].every((n) => n <= 2));
  });

  it('a batch that exhausts its retries is recorded with its sequence range and replays from it', async () => {
    const isolated = await createIsolatedTables();
    const pipeline = await startPipeline({
      dynamo: isolated.client,
      catalogTable: isolated.catalogTable,
      createOutput: false,
      maxRetries: 2,
    });
    // One partition key: one shard, one batch.
    const input = records(randomUUID().slice(0, 8), 5).map((r) => ({ ...r, partitionKey: 'one-shard' }));
    const sequenceNumbers = await putRecords(kinesis, pipeline.input, input);
    while (pipeline.poller.stats.exhaustedBatches < 1) await new Promise((r) => setTimeout(r, 100));
    const [line] = readFileSync(pipeline.failedBatchesFile, 'utf8').trim().split('\n');
    const batch = JSON.parse(line as string).KinesisBatchInfo;
    assert.equal(batch.startSequenceNumber, sequenceNumbers[0]);
    assert.equal(batch.endSequenceNumber, sequenceNumbers[4]);
    assert.equal(batch.batchSize, 5);
    assert.match(batch.streamArn, new RegExp(`stream/${pipeline.input}$`));

    // The output stream is back; the replay puts the batch on the input stream again.
    await createStreams(kinesis, { input: pipeline.input, output: pipeline.output });
    // As an operator would: `npm run replay -- --file …` against the running local stack.
    const replay = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'infra/ops/replay.ts', '--file', pipeline.failedBatchesFile],
      {
        encoding: 'utf8',
        env: { ...process.env },
      },
    );
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, /replayed 5 records from 1 batches/);
    assert.equal(readFileSync(pipeline.failedBatchesFile, 'utf8'), '', 'replayed batches leave the file');
    assert.equal(readFileSync(`${pipeline.failedBatchesFile}.replayed`, 'utf8'), `${line}\n`);
    const out = await collect(kinesis, pipeline.output, {
      keep: () => true,
      done: (kept) => kept.length >= 5,
      settleMs: 1_000,
    });
    assert.equal(out.length, 5, 'the replayed records came out once each');
    assert.ok(
      out.every((r) => statusOf(r).status === 'unowned'),
      'and were enriched',
    );
  });
});
