/**
 * The OTLP/HTTP second sink against a real HTTP server: merged requests that
 * decode to their records, paths, content types and encodings, bounded
 * concurrency, throttling honoured, other refusals not retried, and the time
 * budget.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { makeOtlpForwarder, type OtlpPayload } from '#functions/enrich/otlp-forwarder';
import { otlpProto, sdkTraceRequest } from '../../support/telemetry-payloads.ts';

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}
const received: Received[] = [];
/** Per request, in order: a status and headers; 200 when none is queued. */
const answers: { status: number; headers?: Record<string, string> }[] = [];
let latencyMs = 0;
let inFlight = 0;
let maxInFlight = 0;
const server = createServer((req, res) => {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
    const answer = answers.shift() ?? { status: 200 };
    setTimeout(() => {
      inFlight--;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
    }, latencyMs);
  });
});
let endpoint = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/otlp/`;
});
after(() => server.close());
beforeEach(() => {
  received.length = 0;
  answers.length = 0;
  latencyMs = 0;
  maxInFlight = 0;
});

const plainBody = (r: Received) => (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body);
const resourceSpansOf = (body: Buffer) =>
  (otlpProto.traces.toObject(otlpProto.traces.decode(body), { longs: String, bytes: String }).resourceSpans ??
    []) as unknown[];
const jsonPayload = (i: number): OtlpPayload => ({
  signal: 'logs',
  protobuf: false,
  compression: 'none',
  data: Buffer.from(JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, i }] })),
});

describe('OTLP/HTTP forwarder', () => {
  it('merges records per signal and encoding into few requests that decode to exactly the records', async () => {
    const traces = Array.from({ length: 300 }, (_, i) => sdkTraceRequest({ 'service.name': `svc-${i}` }, 2));
    const payloads: OtlpPayload[] = [
      ...traces.map((data, i) =>
        i % 2
          ? { signal: 'traces' as const, protobuf: true, compression: 'gzip' as const, data: gzipSync(data) }
          : { signal: 'traces' as const, protobuf: true, compression: 'none' as const, data },
      ),
      ...Array.from({ length: 200 }, (_, i) => jsonPayload(i)),
    ];
    const forward = makeOtlpForwarder({ endpoint, maxRequestBytes: 64 * 1024 });
    const result = await forward(payloads);

    assert.deepEqual([result.sent, result.failed], [500, 0]);
    assert.equal(result.requests, received.length);
    assert.ok(received.length < 20, `${received.length} requests for 500 records`);
    for (const r of received) {
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.ok(plainBody(r).length <= 64 * 1024);
    }
    const tracesIn = received.filter((r) => r.url === '/otlp/v1/traces');
    assert.ok(tracesIn.every((r) => r.headers['content-type'] === 'application/x-protobuf'));
    const sortKey = (entry: unknown) => JSON.stringify(entry);
    assert.deepEqual(
      tracesIn
        .flatMap((r) => resourceSpansOf(plainBody(r)))
        .map(sortKey)
        .sort(),
      traces.flatMap(resourceSpansOf).map(sortKey).sort(),
    );
    const logsIn = received.filter((r) => r.url === '/otlp/v1/logs');
    assert.ok(logsIn.every((r) => r.headers['content-type'] === 'application/json'));
    assert.deepEqual(
      logsIn
        .flatMap((r) => JSON.parse(plainBody(r).toString()).resourceLogs)
        .map((e: { i: number }) => e.i)
        .sort((a: number, b: number) => a - b),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });

  it('sends a record alone, as it came, when it is alone in its encoding', async () => {
    const data = gzipSync(Buffer.from([0x0a, 0x00]));
    const forward = makeOtlpForwarder({ endpoint });
    await forward([{ signal: 'metrics', protobuf: true, compression: 'gzip', data }]);
    assert.deepEqual(
      received.map((r) => [r.url, r.headers['content-type'], r.headers['content-encoding'], r.body]),
      [['/otlp/v1/metrics', 'application/x-protobuf', 'gzip', data]],
    );
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    latencyMs = 30;
    const forward = makeOtlpForwarder({ endpoint, maxRequestBytes: 100, concurrency: 3 });
    const result = await forward(Array.from({ length: 12 }, (_, i) => jsonPayload(i)));
    assert.equal(result.requests, 12);
    assert.equal(maxInFlight, 3);
  });

  it('waits as long as a 429’s Retry-After asks (seconds or an HTTP date), then succeeds', async () => {
    answers.push({ status: 429, headers: { 'retry-after': '1' } });
    const forward = makeOtlpForwarder({ endpoint, random: () => 0 });
    assert.deepEqual(await forward([jsonPayload(1)]), { sent: 1, failed: 0, requests: 1, outOfTime: 0 });
    assert.equal(received.length, 2);
    const waited = (received[1] as Received).at - (received[0] as Received).at;
    assert.ok(waited >= 950, `waited ${waited} ms`);

    received.length = 0;
    // HTTP dates have whole seconds: two seconds ahead is at least one second away.
    const date = new Date(Math.floor(Date.now() / 1000) * 1000 + 2_000).toUTCString();
    answers.push({ status: 503, headers: { 'retry-after': date } });
    await forward([jsonPayload(2)]);
    const waitedForDate = (received[1] as Received).at - (received[0] as Received).at;
    assert.ok(waitedForDate >= 950, `waited ${waitedForDate} ms for ${date}`);
  });

  it('retries a 5xx with backoff, never another 4xx, and counts the records not forwarded', async () => {
    answers.push({ status: 503 }, { status: 500 }, { status: 400 });
    const forward = makeOtlpForwarder({ endpoint, concurrency: 1, maxRequestBytes: 100, attempts: 3 });
    const result = await forward([jsonPayload(1), jsonPayload(2)]);
    assert.deepEqual(result, { sent: 1, failed: 1, requests: 2, outOfTime: 0 });
    assert.equal(received.length, 4, 'three tries for the first, then one (400) for the second');
  });

  it('stops within the time budget, counting what it did not send', async () => {
    latencyMs = 100;
    const forward = makeOtlpForwarder({ endpoint, concurrency: 2, maxRequestBytes: 100, reserveMs: 1_000 });
    const started = Date.now();
    const result = await forward(
      Array.from({ length: 40 }, (_, i) => jsonPayload(i)),
      { remainingMs: 1_500 },
    );
    const took = Date.now() - started;
    assert.ok(took < 700, `took ${took} ms of a 500 ms budget`);
    assert.ok(result.sent >= 4 && result.sent <= 12, `sent ${result.sent}`);
    assert.equal(result.sent + result.failed, 40);
    // Those in flight when the budget ended were cut short; the rest never started.
    assert.ok(result.outOfTime >= result.failed - 2, `${result.outOfTime} of ${result.failed} never started`);
  });

  it('gives up on a 429 whose Retry-After ends past the budget instead of sleeping through it', async () => {
    answers.push({ status: 429, headers: { 'retry-after': '30' } });
    const forward = makeOtlpForwarder({ endpoint, reserveMs: 0 });
    const started = Date.now();
    const result = await forward([jsonPayload(1)], { remainingMs: 2_000 });
    assert.ok(Date.now() - started < 500);
    assert.deepEqual(result, { sent: 0, failed: 1, requests: 1, outOfTime: 0 });
  });

  it('counts every record as not forwarded, sending nothing and throwing nothing, when its token cannot be read', async () => {
    // Secrets Manager at a port nothing listens on: the read fails for real, as in an outage.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = 'http://127.0.0.1:9';
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const forward = makeOtlpForwarder({
      endpoint,
      tokenSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:otlp-token',
    });
    const before = received.length;
    const result = await forward([jsonPayload(1), jsonPayload(2), jsonPayload(3)]);
    assert.deepEqual(result, { sent: 0, failed: 3, requests: 0, outOfTime: 0 });
    assert.equal(received.length, before, 'nothing reached the endpoint without its token');
  });
});
