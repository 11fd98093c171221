/**
 * The enrich core on producers' record shapes (producer-shapes.ts), against
 * the floor, in one process and one run: per shape, throughput per core,
 * Portolan / floor, the bytes Portolan adds, and what Kinesis bills for them,
 * then the cost per GB of telemetry built on those figures.
 *
 * CPU time (`process.cpuUsage`), Portolan and floor alternating each round,
 * median of the rounds: on a shared machine the neighbours stretch wall time,
 * not the CPU a run takes. The enrich core is bundled like the function.
 *
 *   npx tsx bench/enrich/producers.ts [--rounds 31] [--shape <part of a shape's name>]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { deaggregateSync, RecordAggregator } from 'aws-kinesis-agg';
import { enrichMemoryMiB } from '#infra/constructs/ingest-pipeline';
import type { enrichRecords as EnrichRecords } from '#shared/telemetry/enrich-records';
import { otlpProto } from '../../test/support/telemetry-payloads.ts';
import { bundleLikeLambda } from '../support/lambda-bundle.ts';
import { producerBatch, producerCatalog, type Shape, shapes } from './producer-shapes.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '31' }, shape: { type: 'string' } },
});
const rounds = Number(values.rounds);

const dir = mkdtempSync(join(tmpdir(), 'portolan-producers-'));
const { enrichRecords } = (await import(
  pathToFileURL(await bundleLikeLambda('shared/telemetry/enrich-records.ts', join(dir, 'enrich.mjs'))).href
)) as { enrichRecords: typeof EnrichRecords };
rmSync(dir, { recursive: true, force: true });

/** A batch as the function receives it: record data base64 in the event. */
type Event = { partitionKey: string; data: string }[];

/** Portolan as the handler runs it between the event and `PutRecords` (whose SDK base64-encodes the data). */
const catalog = producerCatalog();
async function portolan(event: Event) {
  const inputs = event.map((r, i) => ({
    id: String(i),
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data, 'base64'),
  }));
  const { outputs } = await enrichRecords(inputs, { catalog, format: 'auto' });
  for (const o of outputs) o.data.toString('base64');
  return outputs;
}

/**
 * The floor: the least any rewriting enricher does per record — base64-decode,
 * decompress, parse, serialize, compress as it came, base64-encode — with
 * nothing resolved or stamped.
 */
const traces = otlpProto.traces;
const protobufFloor = (data: Buffer) => Buffer.from(traces.encode(traces.decode(data)).finish());
const jsonFloor = (data: Buffer) => Buffer.from(JSON.stringify(JSON.parse(data.toString())));
const gzipped = (inner: (data: Buffer) => Buffer) => (data: Buffer) => gzipSync(inner(gunzipSync(data)));
function kplFloor(data: Buffer): Buffer {
  let users: { partitionKey: string; data: string }[] = [];
  deaggregateSync({ data: data.toString('base64'), partitionKey: 'k' } as never, true, (error, records) => {
    if (error) throw error;
    users = records ?? [];
  });
  const aggregator = new RecordAggregator();
  for (const user of users)
    aggregator.addUserRecord({
      partitionKey: user.partitionKey,
      data: protobufFloor(Buffer.from(user.data, 'base64')),
    });
  return aggregator.build().data;
}
const floorOf: Record<Shape, (data: Buffer) => Buffer> = {
  'OTLP protobuf, 100 spans': protobufFloor,
  'OTLP protobuf gzip, 100 spans': gzipped(protobufFloor),
  'OTLP/JSON, 100 spans': jsonFloor,
  'OTLP/JSON gzip, 100 spans': gzipped(jsonFloor),
  'KPL aggregate of 10 OTLP protobuf': kplFloor,
  'CloudWatch Logs, 50 events': gzipped(jsonFloor),
  'JSON log line, ~300 B': jsonFloor,
};
const floor = (shape: Shape) => (event: Event) => {
  for (const r of event) floorOf[shape](Buffer.from(r.data, 'base64')).toString('base64');
};

async function cpuMs(run: () => unknown) {
  const started = process.cpuUsage();
  await run();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * What Kinesis bills for a record: on-demand counts data in 1 KB (1,024-byte)
 * steps; provisioned counts PUT payload units of 25 KB. The partition key is
 * part of the record's size.
 */
const billed = (bytes: number, unit: number) => Math.ceil(bytes / unit) * unit;
const onDemandUnit = 1024;
const provisionedUnit = 25 * 1024;

interface Row {
  shape: Shape;
  recordBytes: number;
  batchRecords: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  floorRecordsPerSecond: number;
  vsFloor: number;
  outputOverInput: number;
  onDemandBilledOverInput: number;
  provisionedUnitsOverInput: number;
  /** Per record, for the cost table. */
  inputBilledOnDemand: number;
  outputBilledOnDemand: number;
  outputBytes: number;
  inputUnits: number;
  outputUnits: number;
}

const rows: Row[] = [];
console.log(
  `\nProducers' record shapes, one invocation's batch each (median CPU time of ${rounds} rounds)\n`,
);
console.log(
  '| shape | record size | records per batch | Portolan records/s | Portolan MB/s | floor records/s | Portolan / floor | output / input bytes | billed output / input, on-demand (1 KB) | output / input PUT payload units, provisioned (25 KB) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const shape of shapes.filter((s) => !values.shape || s.includes(values.shape))) {
  const batch = producerBatch(shape);
  const event: Event = batch.map((r) => ({ partitionKey: r.partitionKey, data: r.data.toString('base64') }));
  const outputs = await portolan(event);
  const runFloor = floor(shape);
  runFloor(event);
  const times = { portolan: [] as number[], floor: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so that noise from neighbours hits both alike.
    if (i % 2) times.floor.push(await cpuMs(() => runFloor(event)));
    times.portolan.push(await cpuMs(() => portolan(event)));
    if (!(i % 2)) times.floor.push(await cpuMs(() => runFloor(event)));
  }
  let inputBytes = 0;
  let outputBytes = 0;
  let inputBilled = 0;
  let outputBilled = 0;
  let inputUnits = 0;
  let outputUnits = 0;
  for (const r of batch) {
    const size = r.data.length + Buffer.byteLength(r.partitionKey);
    inputBytes += r.data.length;
    inputBilled += billed(size, onDemandUnit);
    inputUnits += billed(size, provisionedUnit) / provisionedUnit;
  }
  for (const o of outputs) {
    const size = o.data.length + Buffer.byteLength(o.partitionKey);
    outputBytes += o.data.length;
    outputBilled += billed(size, onDemandUnit);
    outputUnits += billed(size, provisionedUnit) / provisionedUnit;
  }
  const seconds = median(times.portolan) / 1000;
  const n = batch.length;
  const row: Row = {
    shape,
    recordBytes: inputBytes / n,
    batchRecords: n,
    recordsPerSecond: n / seconds,
    mbPerSecond: inputBytes / 1e6 / seconds,
    floorRecordsPerSecond: n / (median(times.floor) / 1000),
    vsFloor: median(times.floor) / median(times.portolan),
    outputOverInput: outputBytes / inputBytes,
    onDemandBilledOverInput: outputBilled / inputBilled,
    provisionedUnitsOverInput: outputUnits / inputUnits,
    inputBilledOnDemand: inputBilled / n,
    outputBilledOnDemand: outputBilled / n,
    outputBytes: outputBytes / n,
    inputUnits: inputUnits / n,
    outputUnits: outputUnits / n,
  };
  rows.push(row);
  const fmt = (x: number) => Math.round(x).toLocaleString('en');
  console.log(
    `| ${shape} | ${fmt(row.recordBytes)} B | ${fmt(n)} | ${fmt(row.recordsPerSecond)} | ${row.mbPerSecond.toFixed(1)} | ${fmt(row.floorRecordsPerSecond)} | ${row.vsFloor.toFixed(2)}× | ${row.outputOverInput.toFixed(3)} | ${row.onDemandBilledOverInput.toFixed(3)} | ${row.provisionedUnitsOverInput.toFixed(3)} |`,
  );
}

/**
 * Prices: us-east-1 list prices. Kinesis on-demand per GB written (each
 * record rounded up to 1 KB) and per GB read; provisioned per million PUT
 * payload units (shard-hours are fixed, not per GB); Lambda arm64 per
 * GB-second and per million requests.
 */
const price = {
  kinesisOnDemandInPerGB: 0.08,
  kinesisOnDemandReadPerGB: 0.04,
  kinesisPutUnitsPerMillion: 0.014,
  lambdaArmPerGBSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
};
const GB = 2 ** 30;
/** Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB. */
const vcpu = Math.min(1, enrichMemoryMiB / 1769);

console.log(
  `\nCost per GB of producer data (input bytes), from the rows above; Lambda at ${enrichMemoryMiB} MB (${vcpu.toFixed(2)} vCPU)\n`,
);
console.log(
  '| shape | records per GB | Kinesis in, on-demand (write billed + enricher read) | Kinesis out, on-demand (write billed + one consumer read) | Kinesis in + out, provisioned (PUT payload units) | Lambda | total on-demand | total provisioned |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const costs = rows.map((row) => {
  const records = GB / row.recordBytes;
  const kinesisIn =
    ((records * row.inputBilledOnDemand) / GB) * price.kinesisOnDemandInPerGB +
    price.kinesisOnDemandReadPerGB;
  const kinesisOut =
    ((records * row.outputBilledOnDemand) / GB) * price.kinesisOnDemandInPerGB +
    ((records * row.outputBytes) / GB) * price.kinesisOnDemandReadPerGB;
  const provisioned =
    ((records * (row.inputUnits + row.outputUnits)) / 1e6) * price.kinesisPutUnitsPerMillion;
  const gbSeconds = (records / row.recordsPerSecond / vcpu) * (enrichMemoryMiB / 1024);
  const lambda =
    gbSeconds * price.lambdaArmPerGBSecond +
    (records / row.batchRecords / 1e6) * price.lambdaPerMillionRequests;
  const money = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(3)}`;
  console.log(
    `| ${row.shape} | ${Math.round(records).toLocaleString('en')} | ${money(kinesisIn)} | ${money(kinesisOut)} | ${money(provisioned)} | ${money(lambda)} (${gbSeconds.toFixed(1)} GB-s) | ${money(kinesisIn + kinesisOut + lambda)} | ${money(provisioned + lambda)} + shard-hours |`,
  );
  return { shape: row.shape, records, kinesisIn, kinesisOut, provisioned, gbSeconds, lambda };
});

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/producers.json',
  JSON.stringify({ at: new Date().toISOString(), rounds, rows, costs, price }, null, 2),
);
