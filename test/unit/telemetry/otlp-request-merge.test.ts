/**
 * Merged OTLP requests say exactly what their parts said: decoded with the
 * opentelemetry-proto classes (protobuf) or JSON.parse, a merged request's
 * resource entries are the concatenation of its parts', in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Signal } from '#shared/telemetry/otlp-json';
import { mergeOtlpRequests, type OtlpRequestPart } from '#shared/telemetry/otlp-request-merge';
import { otlpProto } from '../../support/telemetry-payloads.ts';

const listKey = { traces: 'resourceSpans', logs: 'resourceLogs', metrics: 'resourceMetrics' } as const;
const decodeOptions = { longs: String, bytes: String, enums: Number };

function entriesOf(signal: Signal, protobuf: boolean, body: Buffer): unknown[] {
  if (!protobuf)
    return (JSON.parse(body.toString('utf8')) as Record<string, unknown[]>)[listKey[signal]] ?? [];
  const type = otlpProto[signal];
  return (type.toObject(type.decode(body), decodeOptions)[listKey[signal]] as unknown[] | undefined) ?? [];
}

const attribute = fc.record({
  key: fc.string({ maxLength: 12 }),
  value: fc.oneof(
    fc.record({ stringValue: fc.string({ maxLength: 20 }) }),
    fc.record({ intValue: fc.integer() }),
    fc.record({ boolValue: fc.boolean() }),
  ),
});
const resource = fc.record({ attributes: fc.array(attribute, { maxLength: 4 }) });
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('base64'));
const resourceSpans = fc.record({
  resource,
  scopeSpans: fc.array(
    fc.record({
      scope: fc.record({ name: fc.string({ maxLength: 10 }) }),
      spans: fc.array(
        fc.record({ traceId: hex(16), spanId: hex(8), name: fc.string({ maxLength: 16 }), kind: fc.nat(5) }),
        { maxLength: 3 },
      ),
    }),
    { maxLength: 2 },
  ),
});
const resourceLogs = fc.record({
  resource,
  scopeLogs: fc.array(
    fc.record({
      logRecords: fc.array(fc.record({ body: fc.record({ stringValue: fc.string({ maxLength: 30 }) }) }), {
        maxLength: 3,
      }),
    }),
    { maxLength: 2 },
  ),
});

/** A protobuf request of the signal, encoded by the generated classes. */
const protobufPart = fc
  .oneof(
    fc.array(resourceSpans, { maxLength: 3 }).map((entries) => ({ signal: 'traces' as const, entries })),
    fc.array(resourceLogs, { maxLength: 3 }).map((entries) => ({ signal: 'logs' as const, entries })),
  )
  .map(({ signal, entries }): OtlpRequestPart => {
    const type = otlpProto[signal];
    const plain = Buffer.from(type.encode(type.fromObject({ [listKey[signal]]: entries })).finish());
    return { signal, protobuf: true, plain };
  });

/** A JSON request of the signal, written with any indentation, elements of any JSON. */
const jsonPart = fc
  .tuple(
    fc.constantFrom<Signal>('traces', 'logs', 'metrics'),
    fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }),
    fc.constantFrom(undefined, 0, 2, '\t'),
    fc.constantFrom('', ' ', '\n', '\r\n  '),
  )
  .map(([signal, entries, indent, pad]): OtlpRequestPart => {
    const plain = Buffer.from(`${pad}${JSON.stringify({ [listKey[signal]]: entries }, null, indent)}${pad}`);
    return { signal, protobuf: false, plain };
  });

function checkMerge(parts: OtlpRequestPart[], maxBytes: number) {
  const requests = mergeOtlpRequests(parts, maxBytes);
  assert.deepEqual(
    requests.flatMap((r) => r.parts).sort((a, b) => parts.indexOf(a) - parts.indexOf(b)),
    parts,
    'every part in exactly one request',
  );
  for (const request of requests) {
    for (const part of request.parts)
      assert.deepEqual(
        [part.signal, part.protobuf],
        [request.signal, request.protobuf],
        'one signal and encoding',
      );
    if (request.parts.length > 1)
      assert.ok(request.body.length <= maxBytes, 'merged requests stay in the bound');
    assert.deepEqual(
      entriesOf(request.signal, request.protobuf, request.body),
      request.parts.flatMap((p) => entriesOf(p.signal, p.protobuf, p.plain)),
      'the merged entries are the parts’ entries in order',
    );
  }
  return requests;
}

describe('merging OTLP requests', () => {
  it('protobuf: a merged request decodes to the concatenation of its parts’ resource entries', () => {
    fc.assert(
      fc.property(
        fc.array(protobufPart, { maxLength: 12 }),
        fc.integer({ min: 1, max: 4_000 }),
        (parts, max) => {
          checkMerge(parts, max);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('JSON: a merged request parses to the concatenation of its parts’ resource entries', () => {
    fc.assert(
      fc.property(fc.array(jsonPart, { maxLength: 12 }), fc.integer({ min: 1, max: 4_000 }), (parts, max) => {
        checkMerge(parts, max);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the producer’s bytes of each element (large integers, escapes, key order)', () => {
    const a = Buffer.from('{"resourceLogs":[{"n":12345678901234567890,"s":"\\u00e9"}]}');
    const b = Buffer.from('{ "resourceLogs" : [ {"z":1,"a":2} ] }');
    const [merged] = mergeOtlpRequests(
      [a, b].map((plain) => ({ signal: 'logs' as const, protobuf: false, plain })),
      1024,
    );
    assert.equal(
      merged?.body.toString(),
      '{"resourceLogs":[{"n":12345678901234567890,"s":"\\u00e9"},{"z":1,"a":2}]}',
    );
  });

  it('sends alone, unchanged, what cannot be merged without changing its meaning', () => {
    const loneJson = [
      '{"resourceSpans":[{}],"extra":1}',
      '{"resourceSpans":[{"a":1}],"resourceSpans":[{"b":2}]}',
      '{"resourceSpans":[{"a":1}',
      '["resourceSpans"]',
      '{"resourceSpans":{}}',
      '\ufeff{"resourceSpans":[]}',
    ];
    const good = Buffer.from('{"resourceSpans":[{"ok":true}]}');
    const json = [good, ...loneJson.map((text) => Buffer.from(text)), good].map((plain) => ({
      signal: 'traces' as const,
      protobuf: false,
      plain,
    }));
    const requests = mergeOtlpRequests(json, 1024);
    for (const part of json.slice(1, -1)) {
      const alone = requests.find((r) => r.parts.includes(part));
      assert.deepEqual(alone?.parts, [part]);
      assert.equal(alone?.body, part.plain);
    }
    assert.equal(
      requests.find((r) => r.parts.length === 2)?.body.toString(),
      '{"resourceSpans":[{"ok":true},{"ok":true}]}',
    );

    const valid = Buffer.from([0x0a, 0x02, 0x0a, 0x00]);
    const truncated = Buffer.from([0x0a, 0x05, 0x0a, 0x00]);
    const otherField = Buffer.from([0x12, 0x00]);
    const overlongVarint = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const protobuf = [valid, truncated, otherField, overlongVarint, valid].map((plain) => ({
      signal: 'traces' as const,
      protobuf: true,
      plain,
    }));
    const merged = mergeOtlpRequests(protobuf, 1024);
    assert.deepEqual(
      merged.map((r) => r.parts.length).sort(),
      [1, 1, 1, 2],
      'the two valid ones merge; a truncated one would have swallowed its neighbour',
    );
  });

  it('sends a part larger than the bound alone and splits the rest at the bound', () => {
    const part = (bytes: number) => ({
      signal: 'traces' as const,
      protobuf: true,
      plain: Buffer.concat([Buffer.from([0x0a, bytes - 2]), Buffer.alloc(bytes - 2)]),
    });
    const requests = mergeOtlpRequests([part(100), part(100), part(120), part(100), part(60)], 200);
    assert.deepEqual(
      requests.map((r) => r.body.length),
      [200, 120, 160],
    );
    const big = mergeOtlpRequests([part(100), part(120)], 110);
    assert.deepEqual(
      big.map((r) => r.parts.length),
      [1, 1],
    );
  });
});
