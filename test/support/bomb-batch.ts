/**
 * Run in a child process whose heap is the deployed function's memory
 * (`node --max-old-space-size=<MiB>`): one batch of gzip bombs, each under
 * the per-record cap, through the enrich core with the budget the handler
 * gives an invocation of that memory. Prints what came out as JSON; an
 * out-of-memory crash is the failure the parent looks for.
 *
 *   node --max-old-space-size=1024 --import tsx test/support/bomb-batch.ts <memoryMiB> <records> <kind> <inflated bytes>
 */
import { gzipSync } from 'node:zlib';
import { DecompressionBudget } from '#shared/telemetry/compression';
import { enrichRecords } from '#shared/telemetry/enrich-records';
import { fixedCatalog } from './hostile-payloads.ts';

const [memoryMiB = 1024, count = 90] = process.argv.slice(2, 4).map(Number);
const kind = process.argv[4] ?? 'json-lines';
const inflated = Number(process.argv[5] ?? 60 * 1024 * 1024);

/** `inflated` bytes of text that decodes as expensively as the format allows, compressed ~1000:1. */
function bomb(): Buffer {
  const unit =
    kind === 'json-lines'
      ? '{"service.name":"checkout"}\n'
      : kind === 'otlp-json'
        ? '{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]}},'
        : ' ';
  const body = unit.repeat(Math.floor((inflated - 20) / unit.length));
  const text = kind === 'otlp-json' ? `{"resourceSpans":[${body}{}]}` : body;
  return gzipSync(Buffer.from(text), { level: 9 });
}

const data = bomb();
const records = Array.from({ length: count }, (_, i) => ({ id: String(i), partitionKey: `pk-${i}`, data }));
const { outputs, counts } = await enrichRecords(records, {
  catalog: fixedCatalog(),
  format: 'auto',
  budget: DecompressionBudget.forMemory(memoryMiB),
});
console.log(
  JSON.stringify({
    compressedBytes: data.length,
    recordsIn: counts.recordsIn,
    ids: new Set(outputs.map((o) => o.id)).size,
    enriched: counts.recordsEnriched,
    passedThrough: counts.passedThrough,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
