/**
 * OTLP forwarder benchmark: one 10,000-record batch per shape forwarded to a
 * local OTLP/HTTP receiver (a real node:http server in a worker thread) that
 * answers every request after 20 ms, as a nearby ingest endpoint would.
 * Reports requests per batch, wall time, the forwarder's CPU time and the
 * bytes sent, for the per-record forwarder (before) and the merging one
 * (after), side by side in one run.
 *
 *   npx tsx bench/forwarder/run.ts [--records 10000] [--latency-ms 20] [--before protobuf]
 *
 * `--before`: the shapes the per-record forwarder also runs (it takes
 * records × latency, ~200 s for 10,000); `all`, or `none`.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { makeOtlpForwarder, type OtlpPayload } from '#functions/enrich/otlp-forwarder';
import { sdkTraceRequest } from '../../test/support/telemetry-payloads.ts';
import { makePerRecordForwarder } from './per-record-forwarder.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    'latency-ms': { type: 'string', default: '20' },
    before: { type: 'string', default: 'protobuf' },
  },
});
const records = Number(values.records);
const latencyMs = Number(values['latency-ms']);

/** The receiver: counts requests and body bytes, answers 200 after the latency. */
const receiverSource = `
const { createServer } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
let requests = 0, bytes = 0;
const server = createServer((req, res) => {
  requests++;
  req.on('data', (c) => { bytes += c.length; });
  req.on('end', () => setTimeout(() => res.end(), workerData.latencyMs));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'count') { parentPort.postMessage({ requests, bytes }); requests = 0; bytes = 0; }
  if (m === 'stop') server.close(() => process.exit(0));
});
`;
const receiver = new Worker(receiverSource, { eval: true, workerData: { latencyMs } });
const { port } = await new Promise<{ port: number }>((resolve) => receiver.once('message', resolve));
const counted = () =>
  new Promise<{ requests: number; bytes: number }>((resolve) => {
    receiver.once('message', resolve);
    receiver.postMessage('count');
  });
const endpoint = `http://127.0.0.1:${port}`;

/** Producers' records: one resource with 10 spans each, from the OpenTelemetry JS SDK's serializers. */
const distinct = 1_000;
const traces = Array.from({ length: distinct }, (_, i) =>
  sdkTraceRequest({ 'service.name': `svc-${i}`, 'deployment.environment.name': 'prod' }, 10),
);
const jsonTraces = Array.from({ length: distinct }, (_, i) =>
  sdkTraceRequest({ 'service.name': `svc-${i}`, 'deployment.environment.name': 'prod' }, 10, 'json'),
);
const gzipped = traces.map((t) => gzipSync(t));
const shapes: Record<string, OtlpPayload[]> = {
  protobuf: Array.from({ length: records }, (_, i) => ({
    signal: 'traces',
    protobuf: true,
    compression: 'none',
    data: traces[i % distinct] as Buffer,
  })),
  'protobuf gzip': Array.from({ length: records }, (_, i) => ({
    signal: 'traces',
    protobuf: true,
    compression: 'gzip',
    data: gzipped[i % distinct] as Buffer,
  })),
  json: Array.from({ length: records }, (_, i) => ({
    signal: 'traces',
    protobuf: false,
    compression: 'none',
    data: jsonTraces[i % distinct] as Buffer,
  })),
};
const beforeShapes =
  values.before === 'all' ? Object.keys(shapes) : values.before === 'none' ? [] : values.before.split(',');

interface Row {
  shape: string;
  forwarder: string;
  requests: number;
  seconds: number;
  cpuSeconds: number;
  sentMiB: number;
  forwarded: number;
}
const rows: Row[] = [];

async function measure(
  shape: string,
  forwarder: string,
  forward: (payloads: OtlpPayload[]) => Promise<{ sent: number }>,
) {
  const payloads = shapes[shape] as OtlpPayload[];
  await counted();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { sent } = await forward(payloads);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const { requests, bytes } = await counted();
  rows.push({
    shape,
    forwarder,
    requests,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    sentMiB: bytes / 1024 / 1024,
    forwarded: sent,
  });
  console.error(`  ${shape}, ${forwarder}: ${requests} requests, ${seconds.toFixed(2)} s`);
}

const inMiB = (payloads: OtlpPayload[]) => payloads.reduce((n, p) => n + p.data.length, 0) / 1024 / 1024;
console.error(`${records} records per batch, receiver latency ${latencyMs} ms`);
for (const shape of Object.keys(shapes)) {
  // Warm-up: the first request opens the connection pool and compiles the paths.
  await makeOtlpForwarder({ endpoint })(shapes[shape]?.slice(0, 50) ?? []);
  await measure(shape, 'merging, gzip', makeOtlpForwarder({ endpoint }));
  await measure(shape, 'merging, none', makeOtlpForwarder({ endpoint, compression: 'none' }));
  if (beforeShapes.includes(shape))
    await measure(shape, 'per record (before)', makePerRecordForwarder({ endpoint }));
}
receiver.postMessage('stop');

console.log(`\nOTLP forwarder, ${records}-record batches, receiver answering after ${latencyMs} ms\n`);
console.log(
  '| shape (batch MiB) | forwarder | requests | wall time | forwarder CPU | sent MiB | forwarded |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows)
  console.log(
    `| ${row.shape} (${inMiB(shapes[row.shape] as OtlpPayload[]).toFixed(1)}) | ${row.forwarder} | ${row.requests.toLocaleString('en')} | ${row.seconds.toFixed(2)} s | ${row.cpuSeconds.toFixed(2)} s | ${row.sentMiB.toFixed(1)} | ${row.forwarded.toLocaleString('en')} |`,
  );
for (const shape of beforeShapes) {
  const before = rows.find((r) => r.shape === shape && r.forwarder.startsWith('per record'));
  const after = rows.find((r) => r.shape === shape && r.forwarder === 'merging, gzip');
  if (before && after)
    console.log(
      `\n${shape}: ${(before.requests / after.requests).toFixed(0)}× fewer requests, ${(before.seconds / after.seconds).toFixed(0)}× less wall time (merging, gzip vs per record)`,
    );
}
