/**
 * This checkout's enrich core against another checkout's, side by side in one
 * process on the benchmark's full batches (both bundled like the function,
 * against the same in-memory catalog), alternating which goes first. Measures
 * CPU time (`process.cpuUsage`), not wall time: on a shared machine the
 * neighbours' load stretches wall time but not the CPU a run itself takes.
 *
 *   npx tsx bench/enrich/compare.ts <other checkout> [rounds=21] [format]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { enrichRecords as EnrichRecords } from '#shared/telemetry/enrich-records';
import { fixedCatalog } from '../../test/support/hostile-payloads.ts';
import { bundleLikeLambda } from '../support/lambda-bundle.ts';
import { type Format, formats, kinesisBatch } from './batches.ts';

const [other, roundsArg = '21', only] = process.argv.slice(2);
if (!other) throw new Error('usage: npx tsx bench/enrich/compare.ts <other checkout> [rounds] [format]');
const rounds = Number(roundsArg);
const dir = mkdtempSync(join(tmpdir(), 'portolan-compare-'));
const load = async (root: string, name: string) =>
  (
    await import(
      pathToFileURL(
        await bundleLikeLambda(
          join(resolve(root), 'shared/telemetry/enrich-records.ts'),
          join(dir, `${name}.mjs`),
        ),
      ).href
    )
  ).enrichRecords as typeof EnrichRecords;
const cores = { this: await load('.', 'this'), other: await load(other, 'other') };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log('| format | this checkout, CPU ms per batch | other, CPU ms | other / this |');
console.log('| --- | ---: | ---: | ---: |');
for (const format of (only ? [only] : formats) as Format[]) {
  const inputs = kinesisBatch(format).Records.map((r) => ({
    id: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    data: Buffer.from(r.kinesis.data, 'base64'),
  }));
  const cpuMs = async (enrich: typeof EnrichRecords) => {
    const started = process.cpuUsage();
    await enrich(inputs, { catalog: fixedCatalog(), format: 'auto' });
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000;
  };
  await cpuMs(cores.this);
  await cpuMs(cores.other);
  const times = { this: [] as number[], other: [] as number[] };
  for (let i = 0; i < rounds; i++)
    for (const which of i % 2 ? (['this', 'other'] as const) : (['other', 'this'] as const))
      times[which].push(await cpuMs(cores[which]));
  const [a, b] = [median(times.this), median(times.other)];
  console.log(`| ${format} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)}× |`);
}
