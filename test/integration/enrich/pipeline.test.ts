/**
 * End to end on the local stack: records put on the input stream with the AWS
 * SDK come out on the output stream, enriched by the same handler Lambda runs
 * (fed by the local event source mapping), and an ownership change made
 * through the API reaches enrichment within the catalog TTL (2 s under `npm test`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { _Record } from '@aws-sdk/client-kinesis';
import { collect, kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import {
  cloudWatchLogsPayload,
  otlpFixture,
  otlpProto,
  sdkTraceRequest,
} from '../../support/telemetry-payloads.ts';
import { call, state, teamDoc, unique } from '../api/api-client.ts';

const kinesis = kinesisFor(state);
const ttlMs = Number(process.env.PORTOLAN_CACHE_TTL_SECONDS ?? 2) * 1000;

type KeyValue = { key: string; value: { stringValue?: string } };
const protobufTeam = (data: Uint8Array) => {
  const request = otlpProto.traces.toObject(otlpProto.traces.decode(data)) as {
    resourceSpans: { resource: { attributes: KeyValue[] } }[];
  };
  return request.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'ownership.team')?.value
    .stringValue;
};

async function catalogWith(service: string, team: string) {
  assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
  const created = await call('PUT', `/v1/services/${service}`, {
    body: {
      id: service,
      team,
      tier: 'tier-1',
      selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: `/aws/lambda/${service}-` }],
    },
  });
  assert.equal(created.status, 201);
}

describe('enrichment pipeline on the local stack', () => {
  it('every record put on the input stream comes out once, enriched or passed through unchanged', async () => {
    const service = unique('svc');
    const team = unique('team');
    await catalogWith(service, team);
    const run = randomUUID().slice(0, 8);
    const otlpJson = JSON.parse(otlpFixture('trace').toString());
    otlpJson.resourceSpans[0].resource.attributes[0].value.stringValue = service;
    const poison = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
    const records = [
      ...Array.from({ length: 40 }, () => sdkTraceRequest({ 'service.name': service })),
      ...Array.from({ length: 20 }, () => Buffer.from(JSON.stringify(otlpJson))),
      ...Array.from({ length: 20 }, () => cloudWatchLogsPayload(`/aws/lambda/${service}-prod`, ['paid'])),
      ...Array.from({ length: 15 }, (_, i) => Buffer.from(`{"service.name":"${service}","n":${i}}\n`)),
      ...Array.from({ length: 5 }, () => poison),
    ].map((data, i) => ({ partitionKey: `${run}-${i}`, data }));
    await putRecords(kinesis, state.kinesis.inputStream, records);

    const out = await collect(kinesis, state.kinesis.outputStream, {
      keep: (r) => r.PartitionKey?.startsWith(`${run}-`) ?? false,
      done: (kept) => kept.length >= records.length,
      settleMs: 1_500,
    });
    assert.equal(out.length, records.length, 'records out = records in, no duplicates');
    const byKey = new Map(out.map((r) => [r.PartitionKey as string, Buffer.from(r.Data as Uint8Array)]));
    assert.equal(byKey.size, records.length, 'every partition key came out');
    for (const [i, input] of records.entries()) {
      const data = byKey.get(input.partitionKey) as Buffer;
      if (i < 40) assert.equal(protobufTeam(data), team, `protobuf record ${i}`);
      else if (i < 60)
        assert.match(data.toString(), new RegExp(`"ownership.team","value":\\{"stringValue":"${team}"`));
      else if (i < 80) assert.equal(JSON.parse(gunzipSync(data).toString())['ownership.team'], team);
      else if (i < 95) assert.equal(JSON.parse(data.toString())['ownership.team'], team);
      else assert.deepEqual(data, poison, 'poison record passed through unchanged');
    }
  });

  it('an ownership change made through the API reaches enrichment within the TTL', async () => {
    const service = unique('svc');
    const [before, after] = [unique('team'), unique('team')];
    await catalogWith(service, before);
    assert.equal((await call('PUT', `/v1/teams/${after}`, { body: teamDoc(after) })).status, 201);
    const run = randomUUID().slice(0, 8);
    const teamOf = async (n: number) => {
      const partitionKey = `${run}-${n}`;
      await putRecords(kinesis, state.kinesis.inputStream, [
        { partitionKey, data: sdkTraceRequest({ 'service.name': service }) },
      ]);
      const [record] = await collect(kinesis, state.kinesis.outputStream, {
        keep: (r: _Record) => r.PartitionKey === partitionKey,
        done: (kept) => kept.length > 0,
      });
      assert.ok(record, `record ${partitionKey} came out`);
      return protobufTeam(record.Data as Uint8Array);
    };
    assert.equal(await teamOf(0), before);

    const changed = await call('PUT', `/v1/services/${service}`, {
      body: { id: service, team: after },
      headers: { 'if-match': '"1"' },
    });
    assert.equal(changed.status, 200);
    const changedAt = Date.now();
    let n = 1;
    let seen = await teamOf(n);
    while (seen !== after && Date.now() - changedAt < ttlMs + 5_000) seen = await teamOf(++n);
    assert.equal(seen, after, `the new team was stamped ${Date.now() - changedAt} ms after the change`);

    // And the API's resolver says the same, with the rule that matched.
    const resolved = await call('GET', `/v1/resolve?service.name=${service}`, { as: 'reader' });
    assert.equal(resolved.status, 200);
    assert.equal((resolved.body.attributes as Record<string, string>)['ownership.team'], after);
    assert.equal((resolved.body.match as Record<string, string>).rule, 'service.name');
  });

  it('telemetry from a source nobody owns is listed by /v1/unowned', async () => {
    const rogue = unique('rogue');
    const run = randomUUID().slice(0, 8);
    // One partition key: one shard, one batch, so the tracker flushes all three at once
    // (a later batch would only flush after the TTL, by design).
    const records = Array.from({ length: 3 }, () => ({
      partitionKey: `${run}-0`,
      data: sdkTraceRequest({ 'service.name': rogue }),
    }));
    await putRecords(kinesis, state.kinesis.inputStream, records);
    const out = await collect(kinesis, state.kinesis.outputStream, {
      keep: (r) => r.PartitionKey?.startsWith(`${run}-`) ?? false,
      done: (kept) => kept.length >= records.length,
    });
    assert.equal(out.length, 3);
    const request = otlpProto.traces.toObject(otlpProto.traces.decode(out[0]?.Data as Uint8Array)) as {
      resourceSpans: { resource: { attributes: KeyValue[] } }[];
    };
    const status = request.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'ownership.status');
    assert.equal(status?.value.stringValue, 'unowned');

    // The handler flushes unowned sources after delivering the batch: look until it has.
    const find = async () => {
      for (let cursor: string | undefined, page = 0; page < 50; page++) {
        const response = await call('GET', `/v1/unowned?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
          as: 'reader',
        });
        assert.equal(response.status, 200);
        const found = response.body.items?.find(
          (item) => (item.attributes as Record<string, string>)['service.name'] === rogue,
        );
        if (found) return found;
        cursor = response.body.nextCursor as string | undefined;
        if (!cursor) return undefined;
      }
      return undefined;
    };
    let listed = await find();
    for (let tries = 0; !listed && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      listed = await find();
    }
    assert.ok(listed, `${rogue} is listed as unowned`);
    assert.ok((listed.count as number) >= 3, `count ${listed.count} covers the 3 records`);
    assert.ok(listed.firstSeen && listed.lastSeen);
  });
});
