/**
 * The stamped ownership attributes chosen through the local stack's own
 * setting (`PORTOLAN_OWNERSHIP_ATTRIBUTES`, read as the deployed function reads
 * `OWNERSHIP_ATTRIBUTES`): a stack of its own, seeded with the demo catalog,
 * stamps only the `minimal` attributes, and a producer's `ownership.*` that the
 * choice leaves out does not come out in their place.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningLocalStack, startLocalStack } from '#infra/local/local-stack';
import { collect, kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import { otlpProto, sdkTraceRequest } from '../../support/telemetry-payloads.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'portolan-stamped-'));
let stack: RunningLocalStack | undefined;
after(async () => {
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const freePorts = Object.fromEntries(
  ['API', 'ISSUER', 'DYNAMODB', 'KINESIS', 'KINESIS_TLS'].map((name) => [`PORTOLAN_${name}_PORT`, '0']),
);

type KeyValue = { key: string; value: { stringValue?: string } };
const ownershipOf = (pairs: [string, unknown][]) =>
  Object.fromEntries(pairs.filter(([key]) => key.startsWith('ownership.')));

describe('stamped ownership attributes on the local stack', () => {
  it('PORTOLAN_OWNERSHIP_ATTRIBUTES=minimal: status, team, service and match, nothing of the producer', async () => {
    stack = await startLocalStack({
      stateDir,
      inMemory: true,
      env: { ...process.env, ...freePorts, PORTOLAN_OWNERSHIP_ATTRIBUTES: 'minimal' },
    });
    // `checkout` (demo catalog) has a tier, a runbook and team contacts that `full` would stamp.
    const claims = { 'ownership.team': 'evil', 'ownership.tier': 'tier-0' };
    const records = [
      {
        partitionKey: 'stamped-protobuf',
        data: sdkTraceRequest({ 'service.name': 'checkout', ...claims }, 1),
      },
      {
        partitionKey: 'stamped-line',
        data: Buffer.from(`${JSON.stringify({ 'service.name': 'checkout', msg: 'paid', ...claims })}\n`),
      },
    ];
    const kinesis = kinesisFor(stack.state);
    await putRecords(kinesis, stack.state.kinesis.inputStream, records);
    const out = await collect(kinesis, stack.state.kinesis.outputStream, {
      keep: (r) => r.PartitionKey?.startsWith('stamped-') ?? false,
      done: (kept) => kept.length >= records.length,
    });
    const data = (key: string) => Buffer.from(out.find((r) => r.PartitionKey === key)?.Data as Uint8Array);
    const request = otlpProto.traces.toObject(otlpProto.traces.decode(data('stamped-protobuf'))) as {
      resourceSpans: { resource: { attributes: KeyValue[] } }[];
    };
    const stamped = {
      protobuf: ownershipOf(
        (request.resourceSpans[0]?.resource.attributes ?? []).map((a) => [a.key, a.value.stringValue]),
      ),
      line: ownershipOf(Object.entries(JSON.parse(data('stamped-line').toString()))),
    };
    for (const [format, attributes] of Object.entries(stamped))
      assert.deepEqual(
        attributes,
        {
          'ownership.status': 'owned',
          'ownership.match': 'service.name',
          'ownership.service': 'checkout',
          'ownership.team': 'payments',
        },
        format,
      );
  });
});
