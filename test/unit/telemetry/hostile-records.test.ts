/**
 * A producer who can write to the input stream attacks the enricher: records
 * that crashed the whole batch, and records that made consumers read an
 * `ownership.*` the producer chose. Every case runs in a batch beside
 * legitimate records, which must come out stamped whatever their neighbours are.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DecompressionBudget } from '#shared/telemetry/compression';
import { enrichRecords, type InputRecord } from '#shared/telemetry/enrich-records';
import {
  crashingRecords,
  escapedLogGroup,
  fixedCatalog,
  jsonOwnership,
  protobufOwnership,
  protobufStrayByteKey,
  protobufWithGroup,
  spoofingRecords,
} from '../../support/hostile-payloads.ts';
import { sdkTraceRequest } from '../../support/telemetry-payloads.ts';

const legit = (id: string): InputRecord => ({
  id,
  partitionKey: id,
  data: sdkTraceRequest({ 'service.name': 'checkout' }, 1),
});
const enrich = (records: InputRecord[], options: Partial<Parameters<typeof enrichRecords>[1]> = {}) =>
  enrichRecords(records, { catalog: fixedCatalog(), format: 'auto', ...options });

describe('one record never costs another', () => {
  for (const [name, data] of Object.entries(crashingRecords()))
    it(`${name}: the batch comes out whole, its neighbours stamped`, async () => {
      const batch = [legit('before'), { id: 'hostile', partitionKey: 'hostile', data }, legit('after')];
      const { outputs, counts } = await enrich(batch);
      assert.deepEqual(
        outputs.map((o) => o.id),
        ['before', 'hostile', 'after'],
        'records in = records out',
      );
      for (const o of [outputs[0], outputs[2]])
        assert.deepEqual(protobufOwnership(o?.data as Buffer).protobufjs, [['payments']]);
      const hostile = outputs[1];
      if (hostile?.passThrough) assert.deepEqual(hostile.data, data, 'passed through unchanged');
      assert.equal(counts.recordsEnriched + counts.recordsPassedThrough, 3);
    });

  it("a source whose value spells another source's attributes does not take that source's ownership", async () => {
    const line = (o: object) => ({
      id: JSON.stringify(o),
      partitionKey: 'p',
      data: Buffer.from(`${JSON.stringify(o)}\n`),
    });
    const { outputs } = await enrich([
      line({ 'service.name': 'checkout\u0000k8s.namespace.name\u0000shop' }),
      line({ 'service.name': 'checkout', 'k8s.namespace.name': 'shop' }),
    ]);
    const [attacker, victim] = outputs.map((o) => JSON.parse(o.data.toString()));
    assert.equal(attacker['ownership.status'], 'unowned');
    assert.equal(victim['ownership.team'], 'payments', 'the victim resolved on its own attributes');
  });

  it('a KPL aggregate nested in one is passed through, counted as undecodable', async () => {
    const { outputs, counts } = await enrich([
      { id: 'k', partitionKey: 'k', data: crashingRecords()['KPL nested 2,000 deep'] as Buffer },
    ]);
    assert.equal(outputs[0]?.passThrough, 'undecodable');
    assert.equal(counts.passedThrough.undecodable, 1);
    assert.match(counts.firstPassThrough.undecodable?.reason ?? '', /nested/);
  });

  it('a protobuf request with a group-encoded field is parsed and stamped, the group kept', async () => {
    const data = protobufWithGroup();
    const { outputs } = await enrich([{ id: 'g', partitionKey: 'g', data }]);
    assert.equal(outputs[0]?.passThrough, undefined, 'stamped, not passed through');
    assert.deepEqual(protobufOwnership(outputs[0]?.data as Buffer).protobufjs, [['payments']]);
    const group = data.subarray(data.length - 4);
    assert.deepEqual(outputs[0]?.data.subarray(-4), group, 'the group copied as it came');
  });
});

describe('what a consumer reads as ownership.* is what Portolan wrote', () => {
  for (const [name, data] of Object.entries(spoofingRecords()))
    it(`${name}: every decoder reads one ownership.team, Portolan's`, async () => {
      const { outputs } = await enrich([{ id: 's', partitionKey: 's', data }]);
      const out = outputs[0]?.data as Buffer;
      assert.equal(outputs[0]?.passThrough, undefined, 'stamped');
      if (name.includes('protobuf')) {
        const read = protobufOwnership(out);
        assert.deepEqual(read.protobufjs, [['payments']], 'protobufjs');
        assert.deepEqual(read.merging, [['payments']], 'a merging decoder');
        return;
      }
      const text = name.includes('CloudWatch') ? gunzipSync(out).toString() : out.toString();
      const read = jsonOwnership(text);
      assert.deepEqual(read.repeated, [], 'no object repeats a key: first-wins and last-wins decoders agree');
      assert.deepEqual(read.lastWins, ['payments'], 'JSON.parse finds one ownership.team, anywhere');
    });

  it('"logGrou\\u0070": the log group resolved is the one a consumer reads', async () => {
    const { outputs } = await enrich([{ id: 'c', partitionKey: 'c', data: escapedLogGroup() }]);
    const envelope = JSON.parse(gunzipSync(outputs[0]?.data as Buffer).toString());
    assert.equal(envelope.logGroup, '/aws/lambda/rogue');
    assert.equal(envelope['ownership.status'], 'unowned', 'not the owner of the group that was not read');
    assert.equal(envelope['ownership.team'], undefined);
  });

  it('a protobuf attribute key that is not UTF-8 makes the record undecodable', async () => {
    const data = protobufStrayByteKey();
    assert.deepEqual(
      protobufOwnership(data).protobufjs,
      [['evil']],
      'protobufjs reads the key as ownership.team',
    );
    const { outputs } = await enrich([{ id: 'p', partitionKey: 'p', data }]);
    assert.equal(outputs[0]?.passThrough, 'undecodable', "not stamped beside the producer's ownership.team");
    assert.deepEqual(outputs[0]?.data, data);
  });

  it('a "__proto__" key beside a producer\'s ownership.* is kept when the record is re-serialized', async () => {
    const proto = '"__proto__":{"x":1}';
    const { outputs } = await enrich([
      {
        id: 'l',
        partitionKey: 'l',
        data: Buffer.from(`{"service.name":"checkout",${proto},"ownership.team":"evil"}\n{}\n`),
      },
      {
        id: 'c',
        partitionKey: 'c',
        data: gzipSync(
          `{"messageType":"DATA_MESSAGE","logGroup":"/aws/lambda/checkout-prod","logEvents":[],${proto},"ownership.team":"evil"}`,
        ),
      },
    ]);
    for (const text of [String(outputs[0]?.data), gunzipSync(outputs[1]?.data as Buffer).toString()]) {
      assert.ok(text?.includes(proto), `${text} keeps ${proto}`);
      assert.deepEqual(jsonOwnership(text.split('\n')[0] as string).lastWins, ['payments']);
    }
  });

  it('a comment hiding a second "resource" from the scan makes the record undecodable, not spliced', async () => {
    const service = '{"key":"service.name","value":{"stringValue":"checkout"}}';
    const evil = '{"key":"ownership.team","value":{"stringValue":"evil"}}';
    // A parser that skips comments (JSONC, JSON5, Gson's lenient mode) reads `x`, the producer's resource, `y`.
    const data = Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[${service}]},"x":[/* " */],"resource":{"attributes":[${service},${evil}]},"y":[/* " */]}]}`,
    );
    const { outputs } = await enrich([{ id: 'j', partitionKey: 'j', data }]);
    assert.equal(outputs[0]?.passThrough, 'undecodable');
    assert.deepEqual(outputs[0]?.data, data);
  });

  it('strict: a KPL aggregate with a user record that does not decode is passed through whole', async () => {
    const { kplAggregate } = await import('../../support/telemetry-payloads.ts');
    const data = kplAggregate([
      { partitionKey: 'a', data: sdkTraceRequest({ 'service.name': 'checkout' }, 1) },
      { partitionKey: 'b', data: Buffer.from('\u0001{"ownership.team":"evil"}') },
    ]);
    const relaxed = await enrich([{ id: 'k', partitionKey: 'k', data }]);
    assert.equal(relaxed.outputs[0]?.passThrough, undefined, 'stamped where it can be (pass-through mode)');
    const strict = await enrich([{ id: 'k', partitionKey: 'k', data }], { strict: true });
    assert.equal(strict.outputs[0]?.passThrough, 'unvouched-part');
    assert.deepEqual(strict.outputs[0]?.data, data);
  });
});

describe('bounded work', () => {
  it('past the decompression budget, compressed records pass through undecoded, counted', async () => {
    const big = gzipSync(
      Buffer.from(`${JSON.stringify({ 'service.name': 'checkout', pad: 'x'.repeat(1_000_000) })}\n`),
    );
    const batch = ['a', 'b', 'c'].map((id) => ({ id, partitionKey: id, data: big }));
    const { outputs, counts } = await enrich(batch, { budget: new DecompressionBudget(2_500_000) });
    assert.deepEqual(
      outputs.map((o) => o.passThrough),
      [undefined, undefined, 'decompression-budget'],
    );
    assert.equal(counts.passedThrough['decompression-budget'], 1);
    assert.deepEqual(outputs[2]?.data, big, 'unchanged');
  });

  it('the record size limit is the configured one, not 1 MiB', async () => {
    const data = Buffer.from(
      `${JSON.stringify({ 'service.name': 'checkout', pad: 'x'.repeat(1_500_000) })}\n`,
    );
    const record = [{ id: 'r', partitionKey: 'r', data }];
    assert.equal((await enrich(record)).outputs[0]?.passThrough, 'oversize', 'over 1 MiB by default');
    const larger = await enrich(record, { maxRecordBytes: 4 * 1024 * 1024 });
    assert.equal(larger.outputs[0]?.passThrough, undefined, 'a 4 MiB stream takes it stamped');
  });
});
