/** The OTLP/HTTP second sink against a real HTTP server: paths, content types, encodings, retries. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeOtlpForwarder } from '#functions/enrich/otlp-forwarder';

const received: { url: string; headers: Record<string, unknown>; body: Buffer }[] = [];
const answers: number[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
    res.statusCode = answers.shift() ?? 200;
    res.end();
  });
});
let endpoint = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/otlp/`;
});
after(() => server.close());

describe('OTLP/HTTP forwarder', () => {
  it('posts each request to /v1/<signal> with its content type and encoding', async () => {
    received.length = 0;
    const forward = makeOtlpForwarder({ endpoint });
    const protobuf = gzipSync(Buffer.from([0x0a, 0x00]));
    const result = await forward([
      { signal: 'traces', protobuf: true, compression: 'gzip', data: protobuf },
      { signal: 'logs', protobuf: false, compression: 'none', data: Buffer.from('{"resourceLogs":[]}') },
    ]);
    assert.deepEqual(result, { sent: 2, failed: 0 });
    assert.deepEqual(
      received.map((r) => [r.url, r.headers['content-type'], r.headers['content-encoding']]),
      [
        ['/otlp/v1/traces', 'application/x-protobuf', 'gzip'],
        ['/otlp/v1/logs', 'application/json', undefined],
      ],
    );
    assert.deepEqual(received[0]?.body, protobuf);
  });

  it('retries a 5xx or 429, gives up at once on another 4xx, and counts failures', async () => {
    received.length = 0;
    answers.push(503, 200, 400, 429, 429, 429);
    const forward = makeOtlpForwarder({ endpoint, attempts: 3 });
    const payload = {
      signal: 'metrics' as const,
      protobuf: false,
      compression: 'none' as const,
      data: Buffer.from('{}'),
    };
    assert.deepEqual(await forward([payload, payload, payload]), { sent: 1, failed: 2 });
    assert.equal(received.length, 6, '2 tries, then 1 (400), then 3 (429s)');
  });
});
