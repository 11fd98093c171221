/**
 * Gzip bombs at the deployed memory size: a child process whose heap is the
 * enrich function's memory gets one batch of them through the enrich core,
 * with the decompression budget the handler gives an invocation of that
 * memory. It must neither crash nor lose a record.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { enrichMemoryMiB } from '#infra/constructs/ingest-pipeline';

function bombBatch(records: number, kind: string, inflatedBytes: number) {
  const child = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${enrichMemoryMiB}`,
      '--import',
      'tsx',
      'test/support/bomb-batch.ts',
      String(enrichMemoryMiB),
      String(records),
      kind,
      String(inflatedBytes),
    ],
    { encoding: 'utf8', timeout: 240_000 },
  );
  assert.equal(child.status, 0, `the child survived: ${child.signal ?? ''} ${child.stderr.slice(-800)}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as {
    recordsIn: number;
    ids: number;
    enriched: number;
    passedThrough: Record<string, number>;
    peakRssMiB: number;
  };
}

describe(`gzip bombs at ${enrichMemoryMiB} MiB`, { timeout: 600_000 }, () => {
  for (const kind of ['json-lines', 'otlp-json'])
    it(`90 records of ${kind} inflating to 60 MiB each: every record out, the budget counted`, () => {
      const out = bombBatch(90, kind, 60 * 1024 * 1024);
      assert.equal(out.ids, 90, 'records in = records out');
      assert.equal(out.enriched, 0);
      assert.equal(out.passedThrough['decompression-cap'], 8, 'the budget pays for each refusal');
      assert.equal(out.passedThrough['decompression-budget'], 82);
      assert.ok(out.peakRssMiB < enrichMemoryMiB, `peak RSS ${out.peakRssMiB} MiB`);
    });

  it('records just under the per-record cap: as many decoded as the budget allows, the rest passed through', () => {
    const perRecord = (enrichMemoryMiB * 1024 * 1024) / 128;
    const out = bombBatch(20, 'json-lines', perRecord - 4096);
    assert.equal(out.ids, 20);
    assert.equal(out.enriched, 16, 'an eighth of the memory, 1/128 each');
    assert.equal(out.passedThrough['decompression-budget'], 4);
    assert.ok(out.peakRssMiB < enrichMemoryMiB, `peak RSS ${out.peakRssMiB} MiB`);
  });
});
