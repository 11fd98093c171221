/**
 * The decoders fuzzed, on arbitrary bytes and on structure-aware mutations of
 * real producer payloads (the OpenTelemetry examples, SDK-written protobuf,
 * CloudWatch Logs envelopes, JSON lines, KPL): the enricher never throws,
 * every record comes out, a pass-through comes out byte for byte, and no
 * decoder reads an `ownership.team` Portolan did not write. And the fast
 * paths, which splice ownership into the producer's bytes, say exactly what
 * parsing, stamping and re-serializing says, on every input both accept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ownershipPrefix } from '#shared/ownership/ownership-context';
import { enrichRecords, type InputRecord } from '#shared/telemetry/enrich-records';
import { spliceObject, stampObject } from '#shared/telemetry/json-records';
import { scanJsonRequest } from '#shared/telemetry/json-scan';
import { otlpFromScan, otlpListKeys, stringifyStamped } from '#shared/telemetry/otlp-json';
import { readOtlpProtobuf } from '#shared/telemetry/otlp-protobuf';
import { decodeRecord } from '#shared/telemetry/record-codec';
import { fixedCatalog, protobufOwnership, repeatedKeys } from '../../support/hostile-payloads.ts';
import {
  cloudWatchLogsPayload,
  kplAggregate,
  otlpFixture,
  otlpProto,
  sdkLogsRequest,
  sdkTraceRequest,
} from '../../support/telemetry-payloads.ts';

const runs = Number(process.env.PORTOLAN_FUZZ_RUNS ?? 300);
const ownership = { 'ownership.team': 'payments', 'ownership.status': 'owned' };

/** Through the enricher as one record; checks what must hold for any input whatsoever. */
async function enrichOne(data: Buffer) {
  const record: InputRecord = { id: '1', partitionKey: 'pk', data };
  const { outputs, counts } = await enrichRecords([record], { catalog: fixedCatalog(), format: 'auto' });
  assert.ok(outputs.length >= 1, 'the record comes out');
  assert.ok(outputs.every((o) => o.id === '1' && o.partitionKey === 'pk'));
  assert.equal(counts.recordsEnriched + counts.recordsPassedThrough, 1);
  if (outputs[0]?.passThrough) assert.deepEqual(outputs[0].data, data, 'a pass-through is unchanged');
  return outputs;
}

/**
 * Every `ownership.team` a JSON consumer reads where Portolan writes it: each
 * OTLP resource's attributes, or an envelope's (a line's) top-level keys.
 * (Span and log-record attributes are the producer's; docs/threat-model.md.)
 */
function jsonTeams(text: string): unknown[] {
  const parsed = JSON.parse(text) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  const request = parsed as Record<string, unknown>;
  const lists = otlpListKeys.filter((k) => Array.isArray(request[k]));
  if (lists.length === 0) return 'ownership.team' in request ? [request['ownership.team']] : [];
  return lists.flatMap((k) =>
    (request[k] as unknown[]).flatMap((envelope) => {
      const resource = (envelope as { resource?: { attributes?: unknown } } | null)?.resource;
      const attributes = resource?.attributes;
      return Array.isArray(attributes)
        ? attributes.filter((a) => a?.key === 'ownership.team').map((a) => a.value)
        : [];
    }),
  );
}

/** The producer's value never reaches a consumer of a stamped record. */
function assertNoSpoof(stamped: Buffer, plain: (b: Buffer) => Buffer) {
  const text = plain(stamped).toString();
  let json = true;
  try {
    JSON.parse(text);
  } catch {
    json = false;
  }
  if (json) {
    assert.ok(
      !JSON.stringify(jsonTeams(text)).includes('evil'),
      `a consumer reads evil: ${text.slice(0, 300)}`,
    );
    return;
  }
  let decoded = true;
  try {
    otlpProto.traces.decode(stamped);
  } catch {
    decoded = false;
  }
  if (decoded) {
    const read = protobufOwnership(stamped);
    assert.ok(!JSON.stringify(read.protobufjs).includes('evil'), 'protobufjs reads evil');
  }
}

// --- structure-aware mutation of JSON payloads ---------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const evil = { key: 'ownership.team', value: { stringValue: 'evil' } };

/** Every container path in a value, for picking where to mutate. */
function paths(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(value)) for (const [i, v] of value.entries()) paths(v, [...at, i], out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

const mutation = fc.record({
  where: fc.nat(),
  how: fc.constantFrom('replace', 'delete', 'evil-attribute', 'evil-key', 'wrap-array', 'null'),
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
});

function mutate(seed: Json, m: { where: number; how: string; value: Json }): Json {
  const copy = structuredClone(seed);
  const all = paths(copy);
  const path = all[m.where % all.length] as (string | number)[];
  if (path.length === 0)
    return m.how === 'evil-key' ? { ...(copy as object), 'ownership.team': 'evil' } : copy;
  let parent = copy as Record<string | number, Json>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, Json>;
  const last = path.at(-1) as string | number;
  const target = parent[last] as Json;
  if (m.how === 'replace') parent[last] = m.value;
  else if (m.how === 'null') parent[last] = null;
  else if (m.how === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.how === 'wrap-array') parent[last] = [target];
  else if (m.how === 'evil-attribute' && Array.isArray(target)) target.push(evil);
  else if (m.how === 'evil-key' && target && typeof target === 'object' && !Array.isArray(target))
    (target as Record<string, Json>)['ownership.team'] = 'evil';
  return copy;
}

/** Key spellings a parser reads alike: each structural key, escaped, and repeated. */
const textTwists = fc.constantFrom(
  (t: string) => t,
  (t: string) => t.replace('"resource"', '"resourc\\u0065"'),
  (t: string) => t.replace('"attributes"', '"attribute\\u0073"'),
  (t: string) => t.replace('"resourceSpans"', '"resource\\u0053pans"'),
  (t: string) => t.replace('"logGroup"', '"logGrou\\u0070"'),
  (t: string) => t.replace('"key":"service.name"', '"key":"ownership\\u002eteam"'),
  (t: string) => t.replace(/\{"attributes":\[/, `{"attributes":[${JSON.stringify(evil)}],"attributes":[`),
  (t: string) => t.replace(/\}$/, `,"ownership\\u002eteam":"evil"}`),
);

const jsonSeeds: Json[] = [
  JSON.parse(otlpFixture('trace').toString()),
  JSON.parse(otlpFixture('logs').toString()),
  JSON.parse(otlpFixture('metrics').toString()),
  JSON.parse(sdkTraceRequest({ 'service.name': 'checkout' }, 1, 'json').toString()),
  {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/checkout-prod',
    logStream: 's',
    subscriptionFilters: ['portolan'],
    logEvents: [{ id: '1', timestamp: 1, message: 'paid' }],
  },
  { 'service.name': 'checkout', msg: 'paid', resource: { 'k8s.namespace.name': 'pay' } },
];

const binarySeeds = [
  sdkTraceRequest({ 'service.name': 'checkout' }, 2),
  sdkLogsRequest({ 'service.name': 'checkout' }),
  cloudWatchLogsPayload('/aws/lambda/checkout-prod', ['a', 'b']),
  Buffer.from('{"service.name":"checkout","n":1}\n{"service.name":"ledger"}\n'),
  kplAggregate([
    { partitionKey: 'a', data: sdkTraceRequest({ 'service.name': 'checkout' }, 1) },
    { partitionKey: 'b', data: Buffer.from('{"service.name":"checkout"}\n') },
  ]),
];

/** Byte-level mutations: flip, insert, delete, duplicate a range (a second resource, a repeated key). */
const byteMutation = fc.record({
  at: fc.nat(),
  length: fc.integer({ min: 1, max: 64 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  how: fc.constantFrom('flip', 'insert', 'delete', 'duplicate'),
});
function mutateBytes(seed: Buffer, m: { at: number; length: number; bytes: Uint8Array; how: string }) {
  const at = m.at % (seed.length + 1);
  const end = Math.min(seed.length, at + m.length);
  if (m.how === 'flip') {
    const copy = Buffer.from(seed);
    for (let i = 0; i < m.bytes.length && at + i < copy.length; i++)
      copy[at + i] = (copy[at + i] as number) ^ (m.bytes[i] as number);
    return copy;
  }
  if (m.how === 'insert') return Buffer.concat([seed.subarray(0, at), m.bytes, seed.subarray(at)]);
  if (m.how === 'delete') return Buffer.concat([seed.subarray(0, at), seed.subarray(end)]);
  return Buffer.concat([seed.subarray(0, end), seed.subarray(at, end), seed.subarray(end)]);
}

const plainOf = (b: Buffer) => {
  try {
    return b[0] === 0x1f ? gunzipSync(b) : b;
  } catch {
    return b;
  }
};

describe('decoders under fuzzing: never throw, nothing lost, nothing spoofed', { timeout: 300_000 }, () => {
  it('arbitrary bytes, bare and behind each format’s first bytes', async () => {
    const prefixes = [[], [0x0a], [0x7b], [0xf3, 0x89, 0x9a, 0xc2], [0x78, 0x9c]].map((p) => Buffer.from(p));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...prefixes),
        fc.uint8Array({ maxLength: 2_000 }),
        fc.boolean(),
        async (prefix, bytes, gzip) => {
          const raw = Buffer.concat([prefix, bytes]);
          await enrichOne(gzip ? gzipSync(raw) : raw);
        },
      ),
      { numRuns: runs },
    );
  });

  it('JSON payloads mutated in structure and in key spelling', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...jsonSeeds),
        fc.array(mutation, { maxLength: 3 }),
        textTwists,
        fc.boolean(),
        async (seed, mutations, twist, gzip) => {
          const mutated = mutations.reduce(mutate, seed);
          const text = Buffer.from(twist(JSON.stringify(mutated)));
          const data = gzip ? gzipSync(text) : text;
          const outputs = await enrichOne(data);
          for (const o of outputs.filter((o) => !o.passThrough)) {
            assertNoSpoof(o.data, plainOf);
            const plain = plainOf(o.data).toString();
            if (plain.trimStart().startsWith('{') && !plain.includes('\n'))
              assert.deepEqual(repeatedKeys(plain), [], 'no repeated key in what comes out');
          }
        },
      ),
      { numRuns: runs },
    );
  });

  it('binary payloads (protobuf, gzip, KPL, JSON lines) mutated byte by byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...binarySeeds),
        fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
        async (seed, mutations) => {
          const data = mutations.reduce(mutateBytes, seed);
          for (const o of (await enrichOne(data)).filter((o) => !o.passThrough && o.data[0] === 0x0a))
            assertNoSpoof(o.data, (b) => b);
        },
      ),
      { numRuns: runs },
    );
  });
});

// --- the splicing paths equal parse → stamp → serialize ------------------------------------

const attribute = fc.record({
  key: fc.constantFrom('service.name', 'deployment.environment.name', 'x', 'ownership.team', 'k"\\é'),
  value: fc.oneof(
    fc.record({ stringValue: fc.string() }),
    fc.record({ intValue: fc.integer() }),
    fc.record({ arrayValue: fc.record({ values: fc.array(fc.record({ stringValue: fc.string() })) }) }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
});
const otlpRequest = fc.record({
  listKey: fc.constantFrom(...otlpListKeys),
  resources: fc.array(
    fc.record({
      attributes: fc.array(attribute, { maxLength: 4 }),
      extra: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
      spaced: fc.boolean(),
    }),
    { maxLength: 3 },
  ),
});

describe('the splicing paths say what parse → stamp → serialize says', { timeout: 300_000 }, () => {
  it('OTLP/JSON', () => {
    fc.assert(
      fc.property(
        otlpRequest,
        fc.array(fc.constantFrom(ownership, {}), { maxLength: 3 }),
        (request, stamps) => {
          const body = {
            [request.listKey]: request.resources.map((r) => ({
              ...r.extra,
              resource: { attributes: r.attributes },
              scopeSpans: [],
            })),
          };
          const text = Buffer.from(JSON.stringify(body, null, request.resources[0]?.spaced ? 1 : 0));
          const scanned = scanJsonRequest(text, otlpListKeys);
          const spliced = scanned && otlpFromScan(text, scanned);
          if (!spliced) return; // the scan declined (producer ownership, repeated keys): the parse path alone
          const own = request.resources.map((_, i) => stamps[i] ?? {});
          const parsed = JSON.parse(text.toString());
          const expected = JSON.parse(stringifyStamped(parsed, spliced.signal, own));
          assert.deepEqual(JSON.parse(spliced.encode(own).toString()), expected);
        },
      ),
      { numRuns: runs },
    );
  });

  it('OTLP protobuf, as protobufjs reads both', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.dictionary(
            fc.constantFrom('service.name', 'ownership.team', 'a', 'deployment.environment.name'),
            fc.string(),
            { maxKeys: 4 },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        fc.array(byteMutation, { maxLength: 1 }),
        (resources, mutations) => {
          const request = otlpProto.traces.encode(
            otlpProto.traces.fromObject({
              resourceSpans: resources.map((attributes) => ({
                resource: {
                  attributes: Object.entries(attributes).map(([key, v]) => ({
                    key,
                    value: { stringValue: v },
                  })),
                },
                scopeSpans: [
                  { scope: { name: 's' }, spans: [{ name: 'op', traceId: 'AAAAAAAAAAAAAAAAAAAAAA==' }] },
                ],
              })),
            }),
          );
          const data = mutations.reduce(mutateBytes, Buffer.from(request.finish()));
          const ours = readOtlpProtobuf(data);
          // protobufjs does not hold a nested field to its message's length, so "accepts" is taken
          // strictly: it decodes, and re-encodes to the same bytes.
          let theirs: Record<string, unknown> | undefined;
          try {
            const message = otlpProto.traces.decode(data);
            const again = Buffer.from(otlpProto.traces.encode(message).finish());
            theirs = again.equals(data)
              ? (otlpProto.traces.toObject(message) as Record<string, unknown>)
              : undefined;
          } catch {
            theirs = undefined;
          }
          if (!ours || !theirs) return;
          const own = ours.sources.map(() => ownership);
          const list = (theirs.resourceSpans ?? []) as { resource?: { attributes?: { key: string }[] } }[];
          for (const rs of list) {
            rs.resource ??= {};
            rs.resource.attributes = [
              ...(rs.resource.attributes ?? []).filter((a) => !a.key.startsWith(ownershipPrefix)),
              ...Object.entries(ownership).map(([key, value]) => ({ key, value: { stringValue: value } })),
            ];
          }
          const expected = otlpProto.traces.toObject(
            otlpProto.traces.decode(otlpProto.traces.encode(otlpProto.traces.fromObject(theirs)).finish()),
          );
          const actual = otlpProto.traces.toObject(otlpProto.traces.decode(ours.encode(own)));
          assert.deepEqual(actual, expected);
        },
      ),
      { numRuns: runs },
    );
  });

  it('CloudWatch Logs envelopes and JSON lines', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        fc.constantFrom(ownership, {}),
        (extra, own) => {
          const envelope = {
            messageType: 'DATA_MESSAGE',
            logGroup: '/aws/lambda/x',
            ...extra,
            logEvents: [],
          };
          const plain = Buffer.from(JSON.stringify(envelope));
          const decoding = decodeRecord(plain, 'cloudwatch-logs');
          if (!('decoded' in decoding)) return;
          const parsed = JSON.parse(plain.toString());
          const stamped = JSON.parse(Buffer.concat(decoding.decoded.encode([own])).toString());
          assert.deepEqual(stamped, stampObject(parsed, own));
          const scanned = scanJsonRequest(plain, [], ['messageType']);
          if (
            scanned &&
            !scanned.duplicateKeys &&
            !Object.keys(parsed).some((k) => k.startsWith('ownership.'))
          )
            assert.deepEqual(
              JSON.parse(spliceObject(plain, scanned.close, false, own).toString()),
              stampObject(parsed, own),
            );

          const lines = Buffer.from(`${JSON.stringify(parsed)}\n${JSON.stringify(extra)}\n`);
          const read = decodeRecord(lines, 'json-lines');
          if (!('decoded' in read)) return;
          const out = Buffer.concat(read.decoded.encode(read.decoded.sources.map(() => own)))
            .toString()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
          assert.deepEqual(out, [
            stampObject(parsed, own),
            stampObject(JSON.parse(JSON.stringify(extra)), own),
          ]);
        },
      ),
      { numRuns: runs },
    );
  });
});
