/**
 * `npm run bench:kinesis-state`: what kinesis-mock's state size costs. It keeps
 * every record in memory and rewrites its whole state file every second; this
 * measures, for state files of growing size, its start (load) time, the CPU
 * each rewrite costs and the share of a core the rewrites take while it is idle,
 * its memory, and the time of a 500-record PutRecords — the figures behind the
 * local stack's state-size warning. CPU per rewrite does not depend on what else
 * runs on the machine; the other figures do.
 *
 *   --sizes <MB,…>   state sizes to measure (default 2,8,32)
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { kinesisStateFileName, startKinesisMock } from '#infra/local/kinesis-mock';
import { claimPort } from '#infra/local/ports';
import { createStreams } from '#infra/local/provision';
import { createKinesisClient } from '#shared/aws/kinesis-client';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '2,8,32' } } });
const sizes = (values.sizes as string).split(',').map(Number);
const credentials = { accessKeyId: 'LOCALBENCH', secretAccessKey: 'bench' };
const region = 'us-east-1';
const names = { input: 'bench-in', output: 'bench-out' };

const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function run(dataDir: string) {
  const port = await claimPort({ variable: 'BENCH', fallback: 0 });
  const tlsPort = await claimPort({ variable: 'BENCH', fallback: 0 });
  const started = Date.now();
  const mock = await startKinesisMock({ port, tlsPort, region, dataDir, credentials });
  const startMs = Date.now() - started;
  const client = createKinesisClient({ endpoint: mock.endpoint, region, credentials });
  await createStreams(client, names);
  return { mock, client, startMs, pid: mock.child.process.pid as number };
}

async function putLatency(client: ReturnType<typeof createKinesisClient>, calls: number) {
  const Records = Array.from({ length: 500 }, (_, i) => ({
    PartitionKey: `k${i}`,
    Data: Buffer.alloc(400, 120),
  }));
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const at = performance.now();
    await client.send(new PutRecordsCommand({ StreamName: names.input, Records }));
    times.push(performance.now() - at);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
}

// A state file to grow: the real thing, from a real run, with its records repeated.
const template = mkdtempSync(join(tmpdir(), 'portolan-kinesis-state-'));
{
  const { mock, client } = await run(template);
  await putLatency(client, 2);
  client.destroy();
  await mock.stop();
}
const stored = JSON.parse(readFileSync(join(template, kinesisStateFileName), 'utf8')) as {
  streams: Record<string, { shards: Record<string, { SequenceNumber: string }[]> }>;
};
const bytesPerRecord = readFileSync(join(template, kinesisStateFileName)).length / 1000;

console.log(
  '| state file | start (load) | CPU per rewrite | idle CPU (share of a core, 10 s) | RSS | PutRecords of 500, median |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const mb of sizes) {
  const dataDir = mkdtempSync(join(tmpdir(), 'portolan-kinesis-state-'));
  const perShardCopies = Math.ceil((mb * 1024 * 1024) / bytesPerRecord / 1000);
  const grown = structuredClone(stored);
  for (const stream of Object.values(grown.streams))
    for (const [shard, records] of Object.entries(stream.shards)) {
      const last = BigInt(records[records.length - 1]?.SequenceNumber ?? '0');
      stream.shards[shard] = Array.from({ length: perShardCopies }, () => records)
        .flat()
        .map((record, i) => ({ ...record, SequenceNumber: String(last + BigInt(i + 1)) }));
    }
  const file = JSON.stringify(grown);
  writeFileSync(join(dataDir, kinesisStateFileName), file);
  const { mock, client, startMs, pid } = await run(dataDir);
  const before = cpuSeconds(pid);
  const versions = new Set<string>();
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    const stats = statSync(join(dataDir, kinesisStateFileName), { throwIfNoEntry: false });
    if (stats) versions.add(`${stats.ino}:${stats.mtimeMs}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const used = cpuSeconds(pid) - before;
  const idle = used / 10;
  const perRewrite = versions.size > 1 ? `${((used / (versions.size - 1)) * 1000).toFixed(0)} ms` : 'n/a';
  const rss = rssMb(pid);
  const put = await putLatency(client, 10);
  console.log(
    `| ${(file.length / 1024 / 1024).toFixed(0)} MB | ${(startMs / 1000).toFixed(1)} s | ${perRewrite} | ${(idle * 100).toFixed(0)}% | ${rss.toFixed(0)} MB | ${put.toFixed(0)} ms |`,
  );
  client.destroy();
  await mock.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
rmSync(template, { recursive: true, force: true });
