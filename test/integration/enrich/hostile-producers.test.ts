/**
 * A producer who can write to the input stream, against the real local
 * pipeline (kinesis-mock, the local event source mapping, the enrich handler,
 * DynamoDB Local, a catalog written through the API): records that used to
 * fail their whole batch, and records that made consumers read an owner the
 * producer chose, put beside legitimate ones. Then the quarantine option:
 * what Portolan does not stamp goes to a stream of its own, which the replay reads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { _Record } from '@aws-sdk/client-kinesis';
import { makeEnrichHandler } from '#functions/enrich/handler';
import { deliverToKinesis } from '#functions/enrich/kinesis-delivery';
import { startKinesisPoller } from '#infra/local/kinesis-poller';
import { createStreams } from '#infra/local/provision';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { UnownedTracker } from '#shared/ownership/unowned-sources';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import {
  crashingRecords,
  escapedLogGroup,
  jsonOwnership,
  protobufOwnership,
  spoofingRecords,
} from '../../support/hostile-payloads.ts';
import { collect, kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import { kplAggregate, sdkTraceRequest } from '../../support/telemetry-payloads.ts';
import { call, state, teamDoc, unique } from '../api/api-client.ts';

const kinesis = kinesisFor(state);
const selectorTtlMs = Number(process.env.PORTOLAN_CACHE_TTL_SECONDS ?? 2) * 1000;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function serviceOwnedBy(team: string) {
  const service = unique('svc');
  assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
  const created = await call('PUT', `/v1/services/${service}`, {
    body: {
      id: service,
      team,
      selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: `/aws/lambda/${service}-` }],
    },
  });
  assert.equal(created.status, 201);
  return service;
}

/** Reads `stream` until every partition key of `records` has come out (and a little longer, for duplicates). */
async function outputOf(stream: string, records: { partitionKey: string }[], timeoutMs = 60_000) {
  const keys = new Set(records.map((r) => r.partitionKey));
  const out = await collect(kinesis, stream, {
    keep: (r: _Record) => keys.has(r.PartitionKey as string),
    done: (kept) => new Set(kept.map((r) => r.PartitionKey)).size >= keys.size,
    timeoutMs,
    settleMs: 1_000,
  });
  return new Map(out.map((r) => [r.PartitionKey as string, Buffer.from(r.Data as Uint8Array)]));
}

describe('hostile producers on the local pipeline', () => {
  it('records that crashed their batch come out alone; their neighbours come out stamped', async () => {
    const team = unique('team');
    const service = await serviceOwnedBy(team);
    const run = randomUUID().slice(0, 8);
    const hostile = Object.entries(crashingRecords(service));
    const records = [
      ...hostile.map(([, data], i) => ({ partitionKey: `${run}-hostile-${i}`, data })),
      ...Array.from({ length: 10 }, (_, i) => ({
        partitionKey: `${run}-legit-${i}`,
        data: sdkTraceRequest({ 'service.name': service }, 1),
      })),
    ];
    // One call: the hostile records and the legitimate ones share batches.
    await putRecords(kinesis, state.kinesis.inputStream, records);
    const out = await outputOf(state.kinesis.outputStream, records);
    assert.deepEqual(
      records.filter((r) => !out.has(r.partitionKey)).map((r) => r.partitionKey),
      [],
      'records in = records out',
    );
    for (const r of records.filter((r) => r.partitionKey.includes('-legit-')))
      assert.deepEqual(protobufOwnership(out.get(r.partitionKey) as Buffer).protobufjs, [[team]]);
  });

  it("what a consumer reads as ownership.team is Portolan's, however the producer spells or repeats keys", async () => {
    const team = unique('team');
    const service = await serviceOwnedBy(team);
    // The CloudWatch cases resolve by the new service's selector: past the cache TTL, every shard knows it.
    await new Promise((r) => setTimeout(r, selectorTtlMs + 500));
    const run = randomUUID().slice(0, 8);
    const spoofs = Object.entries(spoofingRecords(service));
    const records = [
      ...spoofs.map(([, data], i) => ({ partitionKey: `${run}-${i}`, data })),
      { partitionKey: `${run}-loggroup`, data: escapedLogGroup(service) },
    ];
    await putRecords(kinesis, state.kinesis.inputStream, records);
    const out = await outputOf(state.kinesis.outputStream, records);
    for (const [i, [name]] of spoofs.entries()) {
      const data = out.get(`${run}-${i}`) as Buffer;
      assert.ok(data, `${name} came out`);
      if (name.includes('protobuf')) {
        assert.deepEqual(protobufOwnership(data), { protobufjs: [[team]], merging: [[team]] }, name);
        continue;
      }
      const read = jsonOwnership(name.includes('CloudWatch') ? gunzipSync(data).toString() : data.toString());
      assert.deepEqual(read, { lastWins: [team], repeated: [] }, name);
    }
    const envelope = JSON.parse(gunzipSync(out.get(`${run}-loggroup`) as Buffer).toString());
    assert.equal(envelope.logGroup, '/aws/lambda/rogue');
    assert.equal(envelope['ownership.status'], 'unowned', 'the owner of the log group a consumer reads');
  });

  it('a batch of gzip bombs does not take the stack down; the records beside them come out stamped', async () => {
    const team = unique('team');
    const service = await serviceOwnedBy(team);
    const run = randomUUID().slice(0, 8);
    // 60 MiB of JSON lines each, ~150 KB compressed: 30 of them are 4.5 MB, one PutRecords call.
    const bomb = gzipSync(Buffer.from(`{"service.name":"${service}"}\n`.repeat((60 * 1024 * 1024) / 40)), {
      level: 9,
    });
    const records = [
      ...Array.from({ length: 30 }, (_, i) => ({ partitionKey: `${run}-bomb-${i}`, data: bomb })),
      ...Array.from({ length: 5 }, (_, i) => ({
        partitionKey: `${run}-legit-${i}`,
        data: sdkTraceRequest({ 'service.name': service }, 1),
      })),
    ];
    await putRecords(kinesis, state.kinesis.inputStream, records);
    const out = await outputOf(state.kinesis.outputStream, records, 90_000);
    assert.deepEqual(
      records.filter((r) => !out.has(r.partitionKey)).map((r) => r.partitionKey),
      [],
      'records in = records out',
    );
    for (const r of records.filter((r) => r.partitionKey.includes('-legit-')))
      assert.deepEqual(protobufOwnership(out.get(r.partitionKey) as Buffer).protobufjs, [[team]]);
    for (const r of records.filter((r) => r.partitionKey.includes('-bomb-')))
      assert.ok((out.get(r.partitionKey) as Buffer).equals(bomb), 'a bomb passes through undecoded');
    // And the stack still answers.
    assert.equal((await call('GET', `/v1/services/${service}`, { as: 'reader' })).status, 200);
  });

  it('quarantine: unstamped records go to the quarantine stream, not the output; the replay reads them', async () => {
    const team = unique('team');
    const service = await serviceOwnedBy(team);
    const run = randomUUID().slice(0, 8);
    const names = {
      input: `hostile-in-${run}`,
      output: `hostile-out-${run}`,
      quarantine: `hostile-q-${run}`,
    };
    await createStreams(kinesis, names);
    const documents = createDocumentClient(
      new DynamoDBClient({ endpoint: state.dynamodb.endpoint, region: state.region, credentials: state.aws }),
    );
    const logger = new Logger({ logLevel: 'CRITICAL' });
    const table = state.dynamodb.tables.catalog;
    const handler = makeEnrichHandler({
      catalog: new CatalogCache({ client: documents, table, ttlMs: 1_000 }),
      unowned: new UnownedTracker({ client: documents, table, ttlMs: 1_000 }),
      format: 'auto',
      deliver: (records) => deliverToKinesis(records, { client: kinesis, streamName: names.output }),
      quarantine: (records) => deliverToKinesis(records, { client: kinesis, streamName: names.quarantine }),
      logger,
      metrics: new Metrics({ logger, namespace: 'PortolanTest', serviceName: 'hostile' }),
    });
    const poller = startKinesisPoller({
      client: kinesis,
      streamName: names.input,
      region: state.region,
      handler: handler as never,
      batchSize: 50,
      maxRetries: 3,
      pollIntervalMs: 50,
      failedBatchesFile: join(mkdtempSync(join(tmpdir(), 'portolan-hostile-')), 'failed.jsonl'),
    });
    cleanups.push(poller.stop);

    const stamped = sdkTraceRequest({ 'service.name': service }, 1);
    const unvouched = {
      'bytes nobody decodes, claiming an owner': Buffer.from('{"ownership.team":"evil"'),
      'a KPL aggregate with a user record that does not decode': kplAggregate([
        { partitionKey: 'a', data: stamped },
        { partitionKey: 'b', data: Buffer.from('\u0001 ownership.team=evil') },
      ]),
      'a nested KPL aggregate': kplAggregate([
        { partitionKey: 'a', data: kplAggregate([{ partitionKey: 'b', data: stamped }]) },
      ]),
    };
    const records = [
      ...Array.from({ length: 5 }, (_, i) => ({ partitionKey: `${run}-ok-${i}`, data: stamped })),
      ...Object.values(unvouched).map((data, i) => ({ partitionKey: `${run}-q-${i}`, data })),
    ];
    await putRecords(kinesis, names.input, records);
    const [output, quarantined] = await Promise.all([
      outputOf(
        names.output,
        records.filter((r) => r.partitionKey.includes('-ok-')),
      ),
      outputOf(
        names.quarantine,
        records.filter((r) => r.partitionKey.includes('-q-')),
      ),
    ]);
    assert.deepEqual(
      [...output.keys()].sort(),
      records
        .slice(0, 5)
        .map((r) => r.partitionKey)
        .sort(),
    );
    for (const data of output.values()) assert.deepEqual(protobufOwnership(data).protobufjs, [[team]]);
    for (const [i, name] of Object.keys(unvouched).entries())
      assert.deepEqual(
        quarantined.get(`${run}-q-${i}`),
        records[5 + i]?.data,
        `${name}: quarantined unchanged`,
      );

    // As an operator would, once the records are judged: the replay reads the quarantine stream.
    const target = `hostile-judged-${run}`;
    await createStreams(kinesis, { input: target, output: `${target}-unused` });
    const replay = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'infra/ops/replay.ts', '--stream', names.quarantine, '--to', target],
      { encoding: 'utf8', env: { ...process.env } },
    );
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, new RegExp(`replayed 3 records from ${names.quarantine} to ${target}`));
    const judged = await outputOf(target, records.slice(5));
    assert.equal(judged.size, 3);
  });
});
