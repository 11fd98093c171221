/**
 * kinesis-mock stopped (SIGTERM) while it is writing its state file: its shutdown
 * cancels that periodic write, and must still write its state once more and exit
 * normally, keeping every record it acknowledged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateStreamCommand, type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type KinesisMock, startKinesisMock } from '#infra/local/kinesis-mock';
import { createKinesisClient } from '#shared/aws/kinesis-client';
import { keysIn } from '../../support/local-stack-process.ts';

const dirs: string[] = [];
const mocks: KinesisMock[] = [];
after(async () => {
  for (const mock of mocks) await mock.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('kinesis-mock stopped during a state write', { timeout: 120_000 }, () => {
  it('writes its state once more, exits normally and keeps every acknowledged record', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portolan-kinesis-stop-'));
    dirs.push(dataDir);
    const options = {
      port: await freePort(),
      tlsPort: await freePort(),
      region: 'eu-west-1',
      dataDir,
      credentials,
    };
    const start = async () => {
      const mock = await startKinesisMock(options);
      mocks.push(mock);
      return mock;
    };
    const clientOf = (mock: KinesisMock): KinesisClient =>
      createKinesisClient({ endpoint: mock.endpoint, region: options.region, credentials });

    const mock = await start();
    const client = clientOf(mock);
    await client.send(new CreateStreamCommand({ StreamName: 'in', ShardCount: 1 }));
    await new Promise((r) => setTimeout(r, 500));
    // Megabytes of state, so that each periodic write keeps the disk busy for a while.
    const acked: string[] = [];
    for (let call = 0; call < 20; call++) {
      const keys = Array.from({ length: 100 }, (_, i) => `k-${call}-${i}`);
      const result = await client.send(
        new PutRecordsCommand({
          StreamName: 'in',
          Records: keys.map((key) => ({ PartitionKey: key, Data: Buffer.alloc(2_000, 97) })),
        }),
      );
      (result.Records ?? []).forEach((entry, i) => {
        if (!entry.ErrorCode) acked.push(keys[i] as string);
      });
    }
    client.destroy();
    // The next periodic write has begun (its temporary file exists): stop now, in the middle of it.
    const writing = () => readdirSync(dataDir).some((name) => name.endsWith('.tmp'));
    while (writing()) await new Promise((r) => setImmediate(r));
    while (!writing()) await new Promise((r) => setImmediate(r));
    const persisted = await mock.stop();

    assert.equal(mock.child.process.exitCode, 143, `not a normal stop:\n${mock.child.output()}`);
    assert.equal(persisted, true, 'its last state write did not happen');
    const restarted = await start();
    const reader = clientOf(restarted);
    const kept = await keysIn(reader, 'in');
    reader.destroy();
    assert.deepEqual(
      acked.filter((key) => !kept.has(key)),
      [],
      'acknowledged records lost',
    );
    assert.equal(acked.length, 2_000);
  });
});
