import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { deaggregateSync } from 'aws-kinesis-agg';
import { type DecodedRecord, decodeRecord, type InputFormat } from '#shared/telemetry/record-codec';
import {
  cloudWatchLogsPayload,
  kplAggregate,
  metricsRequest,
  otlpFixture,
  otlpProto,
  sdkLogsRequest,
  sdkTraceRequest,
} from '../../support/telemetry-payloads.ts';

const ownership = { 'ownership.team': 'payments', 'ownership.status': 'owned' };

function decoded(data: Buffer, format: InputFormat = 'auto'): DecodedRecord {
  const decoding = decodeRecord(data, format, 'pk');
  assert.ok('decoded' in decoding, `expected a decoded record, got ${JSON.stringify(decoding)}`);
  return decoding.decoded;
}

function enrichOne(data: Buffer, format: InputFormat = 'auto'): Buffer {
  const record = decoded(data, format);
  const out = record.encode(record.sources.map(() => ownership));
  assert.equal(out.length, 1);
  return out[0] as Buffer;
}

type KeyValue = { key: string; value: Record<string, unknown> };
const resourceAttributes = (message: Record<string, unknown>, field: string) =>
  ((message[field] as { resource: { attributes: KeyValue[] } }[])[0]?.resource.attributes ?? []).map((a) => [
    a.key,
    Object.values(a.value)[0],
  ]);
const toObject = (type: keyof typeof otlpProto, bytes: Buffer) =>
  otlpProto[type].toObject(otlpProto[type].decode(bytes), { longs: String, bytes: String, defaults: false });

describe('OTLP JSON (the OpenTelemetry project examples)', () => {
  for (const [fixture, field] of [
    ['trace', 'resourceSpans'],
    ['logs', 'resourceLogs'],
    ['metrics', 'resourceMetrics'],
  ] as const) {
    it(`${fixture}: stamps ownership on the resource and changes nothing else`, () => {
      const input = otlpFixture(fixture);
      const record = decoded(input);
      assert.equal(record.kind, 'otlp-json');
      assert.equal(record.sources[0]?.['service.name'], 'my.service');
      const output = JSON.parse(enrichOne(input).toString());
      const original = JSON.parse(input.toString());
      const attributes = output[field][0].resource.attributes as KeyValue[];
      assert.deepEqual(attributes.slice(-2), [
        { key: 'ownership.team', value: { stringValue: 'payments' } },
        { key: 'ownership.status', value: { stringValue: 'owned' } },
      ]);
      // Everything but the added attributes is exactly what came in.
      output[field][0].resource.attributes = attributes.slice(0, -2);
      assert.deepEqual(output, original);
    });
  }

  it('stamps every resource of a request, whatever the strings inside contain', () => {
    const request = {
      resourceSpans: [
        { resource: { attributes: [] }, scopeSpans: [{ spans: [{ name: 'tricky "]}, [{" \\ name' }] }] },
        {
          scopeSpans: [],
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a]}"b ✓é' } }] },
        },
      ],
    };
    const input = Buffer.from(JSON.stringify(request, null, 1));
    const record = decoded(input);
    assert.deepEqual(record.sources, [{}, { 'service.name': 'a]}"b ✓é' }]);
    const output = JSON.parse(
      record.encode([{ 'ownership.status': 'unowned' }, ownership])[0]?.toString() ?? '',
    );
    assert.deepEqual(output.resourceSpans[0].resource.attributes, [
      { key: 'ownership.status', value: { stringValue: 'unowned' } },
    ]);
    assert.equal(output.resourceSpans[0].scopeSpans[0].spans[0].name, 'tricky "]}, [{" \\ name');
    assert.equal(output.resourceSpans[1].resource.attributes.length, 3);
  });

  it('keeps gzip and zlib compression', () => {
    const plain = otlpFixture('trace');
    const gz = enrichOne(gzipSync(plain));
    assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
    assert.match(gunzipSync(gz).toString(), /ownership\.team/);
    const z = enrichOne(deflateSync(plain));
    assert.equal(z[0], 0x78);
    assert.match(inflateSync(z).toString(), /ownership\.team/);
  });

  it('replaces ownership attributes a producer set itself', () => {
    const request = JSON.parse(otlpFixture('logs').toString());
    request.resourceLogs[0].resource.attributes.push({
      key: 'ownership.team',
      value: { stringValue: 'spoofed' },
    });
    const output = JSON.parse(enrichOne(Buffer.from(JSON.stringify(request))).toString());
    const teams = (output.resourceLogs[0].resource.attributes as KeyValue[]).filter(
      (a) => a.key === 'ownership.team',
    );
    assert.deepEqual(teams, [{ key: 'ownership.team', value: { stringValue: 'payments' } }]);
  });
});

describe('OTLP protobuf (written by the OpenTelemetry JS SDK, read by the generated proto classes)', () => {
  it('traces: resource stamped, spans and their attributes untouched', () => {
    const input = sdkTraceRequest({ 'service.name': 'checkout', 'deployment.environment.name': 'prod' });
    const record = decoded(input);
    assert.equal(record.kind, 'otlp-protobuf');
    assert.equal(record.signal, 'traces');
    assert.deepEqual(record.sources[0], {
      'service.name': 'checkout',
      'deployment.environment.name': 'prod',
    });
    const before = toObject('traces', input);
    const after = toObject('traces', enrichOne(input));
    assert.deepEqual(resourceAttributes(after, 'resourceSpans'), [
      ['service.name', 'checkout'],
      ['deployment.environment.name', 'prod'],
      ['ownership.team', 'payments'],
      ['ownership.status', 'owned'],
    ]);
    const spans = (message: Record<string, unknown>) =>
      (message.resourceSpans as { scopeSpans: unknown }[])[0]?.scopeSpans;
    // A span attribute named ownership.* is the producer's, not the resource's: left alone.
    assert.deepEqual(spans(after), spans(before));
    assert.match(JSON.stringify(spans(after)), /spoofed/);
  });

  it('logs: detected as logs, stamped, records untouched', () => {
    const input = sdkLogsRequest({ 'service.name': 'ledger' });
    const record = decoded(input);
    assert.equal(record.signal, 'logs');
    const after = toObject('logs', enrichOne(input));
    assert.deepEqual(resourceAttributes(after, 'resourceLogs').at(-2), ['ownership.team', 'payments']);
    const before = toObject('logs', input);
    const scopeLogs = (m: Record<string, unknown>) =>
      (m.resourceLogs as { scopeLogs: unknown }[])[0]?.scopeLogs;
    assert.deepEqual(scopeLogs(after), scopeLogs(before));
  });

  it('metrics: a stream configured to metrics decodes and stamps them', () => {
    const input = metricsRequest('checkout');
    const record = decoded(input, 'otlp-proto-metrics');
    assert.equal(record.signal, 'metrics');
    const after = toObject('metrics', enrichOne(input, 'otlp-proto-metrics'));
    assert.deepEqual(resourceAttributes(after, 'resourceMetrics'), [
      ['service.name', 'checkout'],
      ['ownership.team', 'payments'],
      ['ownership.status', 'owned'],
    ]);
  });

  it('replaces a producer-set ownership attribute on the resource', () => {
    const input = sdkTraceRequest({ 'service.name': 'checkout', 'ownership.team': 'spoofed' });
    const after = toObject('traces', gunzipSync(enrichOne(gzipSync(input))));
    const teams = resourceAttributes(after, 'resourceSpans').filter(([key]) => key === 'ownership.team');
    assert.deepEqual(teams, [['ownership.team', 'payments']]);
  });
});

describe('CloudWatch Logs subscription payloads', () => {
  it('DATA_MESSAGE: one source from the log group, ownership at the top level, gzip kept', () => {
    const input = cloudWatchLogsPayload('/aws/lambda/checkout-api-prod', ['START', 'paid order 1']);
    const record = decoded(input);
    assert.equal(record.kind, 'cloudwatch-logs');
    assert.equal(record.compression, 'gzip');
    assert.deepEqual(record.sources[0]?.['aws.log.group.names'], ['/aws/lambda/checkout-api-prod']);
    assert.equal(record.sources[0]?.['faas.name'], 'checkout-api-prod');
    const output = JSON.parse(gunzipSync(enrichOne(input)).toString());
    const original = JSON.parse(gunzipSync(input).toString());
    assert.equal(output['ownership.team'], 'payments');
    assert.deepEqual(output.logEvents, original.logEvents);
    assert.equal(output.logGroup, original.logGroup);
  });

  it('CONTROL_MESSAGE: passed through and said so', () => {
    const decoding = decodeRecord(cloudWatchLogsPayload('', [], 'CONTROL_MESSAGE'));
    assert.ok('passThrough' in decoding);
    assert.equal(decoding.passThrough, 'control-message');
  });
});

describe('JSON lines', () => {
  it('stamps every object line and keeps a line that is not JSON byte for byte', () => {
    const input = Buffer.from(
      [
        '{"service.name":"checkout","msg":"a","ownership.team":"spoofed"}',
        'not json {',
        '{"msg":"b","resource":{"service.name":"ledger"}}',
      ].join('\n'),
    );
    const record = decoded(input);
    assert.equal(record.kind, 'json-lines');
    assert.equal(record.sources.length, 2);
    assert.equal(record.sources[1]?.['service.name'], 'ledger');
    const lines = enrichOneMany(input).split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0] as string), { 'service.name': 'checkout', msg: 'a', ...ownership });
    assert.equal(lines[1], 'not json {');
    assert.equal(JSON.parse(lines[2] as string)['ownership.status'], 'owned');
  });
});

describe('JSON lines, byte for byte', () => {
  it('with the attributes resolution reads known, scans lines for just those', () => {
    const input = Buffer.from(
      [
        '{"msg":"a \\"}{\\" b","service.name":"checkout","n":1}',
        '{"resource":{"service.name":"ledger","k8s.namespace.name":"pay"},"service.name":"top-wins","ownership.team":"x"}',
        '{"broken": }',
        '[1,2]',
      ].join('\n'),
    );
    const decoding = decodeRecord(input, 'auto', '', {
      attributes: new Set(['service.name', 'k8s.namespace.name']),
    });
    assert.ok('decoded' in decoding);
    assert.deepEqual(decoding.decoded.sources, [
      { 'service.name': 'checkout' },
      { 'service.name': 'top-wins', 'k8s.namespace.name': 'pay' },
    ]);
    const lines = Buffer.concat(decoding.decoded.encode([ownership, ownership]))
      .toString()
      .split('\n');
    assert.deepEqual(JSON.parse(lines[0] as string), {
      msg: 'a "}{" b',
      'service.name': 'checkout',
      n: 1,
      ...ownership,
    });
    assert.deepEqual(
      JSON.parse(lines[1] as string)['ownership.team'],
      'payments',
      'producer ownership replaced',
    );
    assert.deepEqual(lines.slice(2), ['{"broken": }', '[1,2]']);
  });

  it('inserts ownership before each closing brace, keeping spacing, CRLF, UTF-8 and empty objects', () => {
    const input = Buffer.from('{ "service.name" : "checkout" , "msg":"héllo ✓" }\r\n{}\n');
    const output = enrichOneMany(input);
    const suffix = '"ownership.team":"payments","ownership.status":"owned"';
    assert.equal(output, `{ "service.name" : "checkout" , "msg":"héllo ✓" ,${suffix}}\r\n{${suffix}}\n`);
  });
});

describe('JSON lines, sources', () => {
  it('lines with equal attributes share one source object; a different line does not', () => {
    const input = Buffer.from(
      [
        '{"service.name":"checkout","msg":"a"}',
        '{"msg":"b","service.name":"checkout"}',
        '{"service.name":"ledger","msg":"c"}',
        '{"aws.log.group.names":["a,b"]}',
        '{"aws.log.group.names":["a","b"]}',
      ].join('\n'),
    );
    const decoding = decodeRecord(input, 'auto', '', {
      attributes: new Set(['service.name', 'aws.log.group.names']),
    });
    assert.ok('decoded' in decoding);
    const [a, b, c, d, e] = decoding.decoded.sources;
    assert.equal(a, b, 'the same attributes, in another key order: one object');
    assert.notEqual(b, c);
    assert.deepEqual(c, { 'service.name': 'ledger' });
    assert.notEqual(d, e, 'a list is compared item by item, not as joined text');
    assert.deepEqual(e, { 'aws.log.group.names': ['a', 'b'] });
  });

  it('a pretty-printed object (one document over several lines) is stamped once, before its last brace', () => {
    const input = Buffer.from('{\n  "service.name": "checkout"\n}\n');
    const output = enrichOneMany(input);
    assert.equal(
      output,
      '{\n  "service.name": "checkout"\n,"ownership.team":"payments","ownership.status":"owned"}\n',
    );
  });

  it('JSON lines that are not UTF-8 pass through, and say why (JSON text is UTF-8, RFC 8259)', () => {
    const input = Buffer.concat([
      Buffer.from('{"service.name":"checkout","msg":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n{"service.name":"checkout"}\n'),
    ]);
    assert.deepEqual(decodeRecord(input), {
      passThrough: 'undecodable',
      reason: 'JSON lines that are not UTF-8',
    });
  });
});

function enrichOneMany(data: Buffer) {
  const record = decoded(data);
  return Buffer.concat(record.encode(record.sources.map(() => ownership))).toString();
}

describe('KPL aggregated records', () => {
  it('de-aggregates, stamps each user record and re-aggregates with the partition keys kept', () => {
    const input = kplAggregate([
      { partitionKey: 'a', data: otlpFixture('trace') },
      { partitionKey: 'b', data: Buffer.from('{"service.name":"ledger"}') },
      { partitionKey: 'a', data: Buffer.from([0xff, 0x00, 0x13]) },
    ]);
    const record = decoded(input);
    assert.equal(record.kind, 'kpl');
    assert.equal(record.sources.length, 2);
    const out = record.encode(record.sources.map(() => ownership));
    assert.equal(out.length, 1);
    const users: { partitionKey: string; data: string }[] = [];
    deaggregateSync(
      {
        data: (out[0] as Buffer).toString('base64'),
        partitionKey: 'pk',
        sequenceNumber: '1',
        kinesisSchemaVersion: '1.0',
        approximateArrivalTimestamp: 0,
      },
      true,
      (error, records) => {
        assert.ifError(error);
        users.push(...(records ?? []));
      },
    );
    assert.deepEqual(
      users.map((u) => u.partitionKey),
      ['a', 'b', 'a'],
    );
    const data = users.map((u) => Buffer.from(u.data, 'base64'));
    assert.match(data[0]?.toString() ?? '', /"ownership\.team"/);
    assert.equal(JSON.parse(data[1]?.toString() ?? '')['ownership.team'], 'payments');
    assert.deepEqual(
      data[2],
      Buffer.from([0xff, 0x00, 0x13]),
      'an undecodable user record is kept as it came',
    );
  });

  it('a corrupt aggregate (bad checksum) passes through', () => {
    const input = kplAggregate([{ partitionKey: 'a', data: Buffer.from('{"x":1}') }]);
    input[input.length - 1] = (input[input.length - 1] as number) ^ 0xff;
    assert.deepEqual(decodeRecord(input), {
      passThrough: 'undecodable',
      reason: 'KPL aggregate does not decode: Invalid record checksum',
    });
  });
});

describe('what cannot be decoded passes through', () => {
  for (const [name, data] of [
    ['empty', Buffer.alloc(0)],
    ['random bytes', Buffer.from([0x01, 0x02, 0xfe, 0xfd, 0x00])],
    ['truncated gzip', gzipSync(otlpFixture('trace')).subarray(0, 20)],
    ['truncated protobuf', sdkTraceRequest({ 'service.name': 'x' }).subarray(0, 17)],
    ['a JSON array', Buffer.from('[1,2,3]')],
    ['plain text', Buffer.from('GET /index.html 200')],
  ] as const) {
    it(name, () => {
      const decoding = decodeRecord(Buffer.from(data));
      assert.ok(
        'passThrough' in decoding,
        `${name} decoded as ${'decoded' in decoding ? decoding.decoded.kind : ''}`,
      );
      assert.ok(decoding.reason.length > 0);
    });
  }

  it('a stream configured to protobuf does not take JSON for it', () => {
    assert.ok('passThrough' in decodeRecord(otlpFixture('trace'), 'otlp-proto-traces'));
  });
});
