/**
 * Enrichment benchmark, everything side by side in one run (shared, noisy machines):
 *
 * 1. Throughput per core on full batches (10,000 records) per input format,
 *    warm cache, against the floor — the least any rewriting enricher must do:
 *    base64-decode, decompress, parse, serialize, compress, base64-encode.
 *    The enrich core is measured as deployed: bundled like the function.
 * 2. Against the straightforward enricher (one `GetItem` per record for its
 *    service and one for its team, no cache): throughput and catalog reads.
 * 3. Peak memory of the enrich handler on a 6 MB batch, in a fresh process.
 * 4. End to end on the local stack: `PutRecords` → enriched record on the
 *    output stream, records/s and p50/p99 latency.
 *
 *   npx tsx bench/enrich/run.ts [--rounds 5] [--e2e-records 5000] [--sections 1,2,3,4] [--from-source]
 *                               [--baseline <another checkout>]
 *
 * `--baseline`: section 1 also runs that checkout's enrich core, bundled the
 * same way, in the same rounds (Portolan, baseline, floor in turn), so a
 * change is compared side by side on a shared machine, not across runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { claimPort } from '#infra/local/ports';
import { createTables } from '#infra/local/provision';
import type { Service, Team } from '#shared/catalog/entity-schemas';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { resolveOwnership } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import type { enrichRecords as EnrichRecords } from '#shared/telemetry/enrich-records';
import { decodeRecord } from '#shared/telemetry/record-codec';
import { otlpProto } from '../../test/support/telemetry-payloads.ts';
import { bundleLikeLambda } from '../support/lambda-bundle.ts';
import { type Format, formats, kinesisBatch, seedBenchCatalog } from './batches.ts';
import { endToEnd } from './end-to-end.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'e2e-records': { type: 'string', default: '5000' },
    sections: { type: 'string', default: '1,2,3,4' },
    'from-source': { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const sections = new Set(values.sections.split(','));

const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const dataDir = mkdtempSync(join(tmpdir(), 'portolan-bench-enrich-'));
const dynamoLocal = await startDynamoDbLocal({
  cacheDir: resolve('node_modules', '.cache', 'portolan'),
  port: await claimPort({ variable: 'BENCH_DYNAMODB_PORT', fallback: 0 }),
  credentials,
});
const tables = { catalog: 'bench-catalog', audit: 'bench-audit' };
const dynamo = new DynamoDBClient({ endpoint: dynamoLocal.endpoint, region: 'us-east-1', credentials });
const documents = createDocumentClient(dynamo);
await createTables(dynamo, tables);
await seedBenchCatalog(
  makeDynamoCatalogStore({ client: documents, catalogTable: tables.catalog, auditTable: tables.audit }),
);

const inputs = (event: KinesisStreamEvent) =>
  event.Records.map((r) => ({
    id: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    data: Buffer.from(r.kinesis.data, 'base64'),
  }));

/**
 * The enrich core as Lambda runs it: bundled with the functions' own esbuild
 * options. `--from-source` measures the TypeScript source through tsx instead,
 * where every function created per record also pays for tsx's name-keeping
 * wrapper, which the deployed bundle has not.
 */
const enrichModule = values['from-source']
  ? '#shared/telemetry/enrich-records'
  : pathToFileURL(await bundleLikeLambda('shared/telemetry/enrich-records.ts', join(dataDir, 'enrich.mjs')))
      .href;
const { enrichRecords } = (await import(enrichModule)) as { enrichRecords: typeof EnrichRecords };
const baseline = values.baseline
  ? ((
      await import(
        pathToFileURL(
          await bundleLikeLambda(
            join(resolve(values.baseline), 'shared/telemetry/enrich-records.ts'),
            join(dataDir, 'baseline.mjs'),
          ),
        ).href
      )
    ).enrichRecords as typeof EnrichRecords)
  : undefined;

/** Portolan's enrich path without the network: what the handler does between the event and `PutRecords`. */
function portolan(cache: CatalogCache, enrich = enrichRecords) {
  return async (event: KinesisStreamEvent) => {
    const { outputs } = await enrich(inputs(event), { catalog: cache, format: 'auto' });
    // The SDK base64-encodes each record's data when it serializes PutRecords.
    let bytes = 0;
    for (const o of outputs) bytes += o.data.toString('base64').length;
    return bytes;
  };
}

/** The floor: decode and re-encode each record with nothing resolved or stamped. */
const floors: Record<Format, (event: KinesisStreamEvent) => void> = {
  'OTLP JSON traces': (event) => {
    for (const r of event.Records)
      Buffer.from(JSON.stringify(JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()))).toString(
        'base64',
      );
  },
  'OTLP protobuf traces': (event) => {
    const type = otlpProto.traces;
    for (const r of event.Records)
      Buffer.from(type.encode(type.decode(Buffer.from(r.kinesis.data, 'base64'))).finish()).toString(
        'base64',
      );
  },
  'CloudWatch Logs': (event) => {
    for (const r of event.Records) {
      const parsed = JSON.parse(gunzipSync(Buffer.from(r.kinesis.data, 'base64')).toString());
      gzipSync(JSON.stringify(parsed)).toString('base64');
    }
  },
  'JSON lines': (event) => {
    for (const r of event.Records) {
      const lines = Buffer.from(r.kinesis.data, 'base64').toString().split('\n');
      const out = lines.map((line) => (line ? JSON.stringify(JSON.parse(line)) : line));
      Buffer.from(out.join('\n')).toString('base64');
    }
  },
};

/** What a team writes first: for each record, GetItem its service, then its team. No cache. */
function naive(reads: { count: number }) {
  return async (event: KinesisStreamEvent) => {
    for (const record of inputs(event)) {
      const decoding = decodeRecord(record.data);
      if (!('decoded' in decoding)) continue;
      const stamps = [];
      for (const source of decoding.decoded.sources) {
        const name = String(source['service.name'] ?? '');
        const get = async <T>(pk: string, sk: string) => {
          reads.count++;
          const { Item } = await documents.send(
            new GetCommand({ TableName: tables.catalog, Key: { pk, sk } }),
          );
          return Item?.doc as T | undefined;
        };
        const service = name ? await get<Service>('service', name) : undefined;
        const team = service ? await get<Team>('team', service.team) : undefined;
        stamps.push(
          resolveOwnership(source, {
            service: () => service,
            team: () => team,
            repository: () => undefined,
            environment: () => undefined,
            selectors: () => compileSelectors([]),
          }).attributes,
        );
      }
      decoding.decoded.encode(stamps).map((b) => b.toString('base64'));
    }
  };
}

async function seconds(run: () => unknown) {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const results: Record<string, unknown> = { at: new Date().toISOString(), rounds };
const throughput: {
  format: Format;
  portolan: number;
  floor: number;
  ratio: number;
  baseline?: number;
  vsBaseline?: number;
  mb: number;
  growth: number;
}[] = [];
if (sections.has('1')) {
  console.log(`\n1. Throughput per core, 10,000-record batches, warm cache (median of ${rounds} rounds)\n`);
  console.log(
    `| format | batch size | output / input bytes | Portolan records/s | floor records/s | Portolan / floor |${baseline ? ' baseline records/s | Portolan / baseline |' : ''}`,
  );
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: |${baseline ? ' ---: | ---: |' : ''}`);
}
for (const format of sections.has('1') ? formats : []) {
  const event = kinesisBatch(format);
  const cache = new CatalogCache({ client: documents, table: tables.catalog, ttlMs: 600_000 });
  const enrich = portolan(cache);
  const outputBase64 = await enrich(event); // warm the cache and the JIT
  const inputBase64 = event.Records.reduce((n, r) => n + r.kinesis.data.length, 0);
  floors[format](event);
  const before = baseline && portolan(cache, baseline);
  if (before) await before(event);
  const times = { portolan: [] as number[], floor: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate, so that noise from neighbours hits both alike.
    times.portolan.push(await seconds(() => enrich(event)));
    if (before) times.baseline.push(await seconds(() => before(event)));
    times.floor.push(await seconds(() => floors[format](event)));
  }
  const rate = (xs: number[]) => Math.round(event.Records.length / median(xs));
  const row = {
    format,
    portolan: rate(times.portolan),
    floor: rate(times.floor),
    ratio: median(times.floor) / median(times.portolan),
    ...(before
      ? { baseline: rate(times.baseline), vsBaseline: median(times.baseline) / median(times.portolan) }
      : {}),
    mb: (inputBase64 * 3) / 4 / 1e6,
    growth: outputBase64 / inputBase64,
  };
  throughput.push(row);
  console.log(
    `| ${format} | ${row.mb.toFixed(1)} MB | ${row.growth.toFixed(2)}× | ${row.portolan.toLocaleString('en')} | ${row.floor.toLocaleString('en')} | ${row.ratio.toFixed(2)}× |${row.baseline ? ` ${row.baseline.toLocaleString('en')} | ${(row.vsBaseline as number).toFixed(2)}× |` : ''}`,
  );
}
results.throughput = throughput;

if (sections.has('2')) {
  console.log('\n2. Against the straightforward enricher (GetItem per record, no cache), OTLP JSON traces\n');
  const sample = 1_000;
  const event = kinesisBatch('OTLP JSON traces', sample);
  const reads = { count: 0 };
  const naiveRun = naive(reads);
  await naiveRun(event);
  const naiveReadsPer10k = (reads.count / sample) * 10_000;
  const naiveTimes: number[] = [];
  const portolanTimes: number[] = [];
  const warm = new CatalogCache({ client: documents, table: tables.catalog, ttlMs: 600_000 });
  await portolan(warm)(event);
  for (let i = 0; i < Math.min(rounds, 3); i++) {
    naiveTimes.push(await seconds(() => naiveRun(event)));
    portolanTimes.push(await seconds(() => portolan(warm)(event)));
  }
  const cold = new CatalogCache({ client: documents, table: tables.catalog, ttlMs: 600_000 });
  const full = kinesisBatch('OTLP JSON traces');
  await portolan(cold)(full);
  const coldReads = cold.stats.catalogReads;
  await portolan(cold)(full);
  const warmReads = cold.stats.catalogReads - coldReads;
  const naiveRate = sample / median(naiveTimes);
  const portolanRate = sample / median(portolanTimes);
  results.naive = { naiveRate, portolanRate, naiveReadsPer10k, coldReads, warmReads };
  console.log('| enricher | records/s | catalog reads per 10,000 records |');
  console.log('| --- | ---: | ---: |');
  console.log(
    `| GetItem per record | ${Math.round(naiveRate).toLocaleString('en')} | ${naiveReadsPer10k.toLocaleString('en')} |`,
  );
  console.log(
    `| Portolan (cold cache / warm) | ${Math.round(portolanRate).toLocaleString('en')} | ${coldReads} / ${warmReads} |`,
  );
  console.log(`\nPortolan / straightforward throughput: ${(portolanRate / naiveRate).toFixed(0)}×`);
}

if (sections.has('3')) {
  console.log('\n3. Peak memory, one 6 MB batch through the enrich handler, fresh process\n');
  const output = execFileSync(process.execPath, ['--import', 'tsx', 'bench/enrich/memory.ts'], {
    env: {
      ...process.env,
      BENCH_DYNAMODB_ENDPOINT: dynamoLocal.endpoint,
      BENCH_CATALOG_TABLE: tables.catalog,
      // The handler module builds its Lambda export from these at import; the benchmark uses its own deps.
      CATALOG_TABLE: tables.catalog,
      OUTPUT_STREAM: 'unused',
    },
    encoding: 'utf8',
  });
  const memory = JSON.parse(output.trim().split('\n').at(-1) as string);
  results.memory = memory;
  console.log(
    `${memory.records.toLocaleString('en')} records, ${memory.batchMB.toFixed(1)} MB of record data: peak RSS ${memory.peakRssMB.toFixed(0)} MB (after imports: ${memory.baselineRssMB.toFixed(0)} MB) — ${((memory.peakRssMB / 512) * 100).toFixed(0)}% of a 512 MB function`,
  );
}

await dynamoLocal.child.stop();
rmSync(dataDir, { recursive: true, force: true });

if (sections.has('4')) {
  console.log(
    '\n4. End to end on the local stack (kinesis-mock, DynamoDB Local, local event source mapping)\n',
  );
  const e2e = await endToEnd(Number(values['e2e-records']));
  results.endToEnd = e2e;
  console.log(
    `burst of ${e2e.sent.toLocaleString('en')} records: ${e2e.records.toLocaleString('en')} out at ${Math.round(e2e.recordsPerSecond).toLocaleString('en')} records/s (kinesis-mock alone takes ${Math.round(e2e.kinesisMockPutsPerSecond).toLocaleString('en')} puts/s; every record is put twice)\nsteady ${e2e.steadyRecordsPerSecond} records/s: ${e2e.steadyReceived} out, latency p50 ${e2e.p50} ms, p99 ${e2e.p99} ms (PutRecords → read from the output stream)`,
  );
}

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/enrich.json', JSON.stringify(results, null, 2));
process.exit(0);
