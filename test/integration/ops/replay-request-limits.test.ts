/**
 * A replay of more than one `PutRecords` request can carry (5 MiB) against
 * the stack's kinesis-mock, on streams of its own: it is put in several
 * requests, every record once, with its partition key and bytes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { waitUntil } from '#infra/local/ports';
import { replayStream } from '#infra/ops/replay-failed-batches';
import { collect, kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import { readLocalStack } from '../../support/local-stack.ts';

const kinesis = kinesisFor(readLocalStack());

async function newStream(prefix: string) {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitUntil(`stream ${name}`, async () => {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') throw new Error('not active yet');
  });
  return name;
}

/** The real client, counting the `PutRecords` requests and the bytes each carried. */
function countingPuts(client: KinesisClient) {
  const puts: number[] = [];
  const counting = {
    send: (command: unknown) => {
      if (command instanceof PutRecordsCommand)
        puts.push((command.input.Records ?? []).reduce((n, r) => n + (r.Data?.length ?? 0), 0));
      return client.send(command as PutRecordsCommand);
    },
  } as KinesisClient;
  return { counting, puts };
}

describe('replay within PutRecords limits', () => {
  it('replays 7.5 MiB of records in several requests of at most 5 MiB, every record once', async () => {
    const source = await newStream('replay-src');
    const target = await newStream('replay-dst');
    const records = Array.from({ length: 10 }, (_, i) => ({
      partitionKey: `big-${i}`,
      data: Buffer.alloc(768 * 1024, i + 1),
    }));
    // Two records a call, so that putting the source is within the limit on its own.
    for (let i = 0; i < records.length; i += 2) await putRecords(kinesis, source, records.slice(i, i + 2));

    const { counting, puts } = countingPuts(kinesis);
    assert.equal(await replayStream(counting, source, target), records.length);

    assert.ok(puts.length >= 2, `several requests (${puts.length})`);
    for (const bytes of puts) assert.ok(bytes <= 5 * 1024 * 1024, `a request of ${bytes} bytes`);
    const out = await collect(kinesis, target, { keep: () => true, done: (r) => r.length >= records.length });
    assert.deepEqual(
      out.map((r) => [
        r.PartitionKey,
        Buffer.from(r.Data as Uint8Array).equals(records[Number(r.PartitionKey?.slice(4))]?.data as Buffer),
      ]),
      records.map((r) => [r.partitionKey, true]),
    );
  });
});
