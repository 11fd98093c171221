/**
 * `npm run demo` (with `npm start` running): puts a few records on the local
 * input stream, one per kind of producer, and prints what comes out of the
 * output stream — the enrichment, visible.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { localKinesisClient, localStateFile, readLocalState } from '#infra/local/local-state';
import { openStreamReader } from '#infra/local/stream-reader';

const state = readLocalState();
if (!state) {
  console.error(`demo: no local stack state at ${localStateFile()}; run \`npm start\` first`);
  process.exit(1);
}
const kinesis = localKinesisClient(state);
const run = Date.now().toString(36);

const otlpTrace = (resource: Record<string, string>) =>
  Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: {
            attributes: Object.entries(resource).map(([key, value]) => ({
              key,
              value: { stringValue: value },
            })),
          },
          scopeSpans: [
            {
              scope: { name: 'demo' },
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'GET /cart',
                  kind: 2,
                  startTimeUnixNano: '1764000000000000000',
                  endTimeUnixNano: '1764000000100000000',
                },
              ],
            },
          ],
        },
      ],
    }),
  );
const cloudWatchLogs = (logGroup: string) =>
  gzipSync(
    JSON.stringify({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup,
      logStream: '2026/11/25/[$LATEST]demo',
      subscriptionFilters: ['portolan'],
      logEvents: [{ id: '1', timestamp: Date.now(), message: 'indexed 42 documents' }],
    }),
  );

const samples: [string, Buffer][] = [
  [
    'OTLP JSON trace, service.name=checkout, prod',
    otlpTrace({ 'service.name': 'checkout', 'deployment.environment.name': 'prod' }),
  ],
  [
    'CloudWatch Logs from /aws/lambda/search-indexer-handler',
    cloudWatchLogs('/aws/lambda/search-indexer-handler'),
  ],
  [
    'JSON log line from k8s namespace "ledger"',
    Buffer.from('{"msg":"posted","k8s.namespace.name":"ledger"}\n'),
  ],
  ['OTLP JSON trace, service.name=rogue-cron (nobody owns it)', otlpTrace({ 'service.name': 'rogue-cron' })],
  ['bytes nobody can decode', Buffer.from([0xde, 0xad, 0xbe, 0xef])],
];

await kinesis.send(
  new PutRecordsCommand({
    StreamName: state.kinesis.inputStream,
    Records: samples.map(([, data], i) => ({ PartitionKey: `demo-${run}-${i}`, Data: data })),
  }),
);
console.log(
  `put ${samples.length} records on ${state.kinesis.inputStream}; reading ${state.kinesis.outputStream}…\n`,
);

const reader = await openStreamReader(kinesis, state.kinesis.outputStream);
const found = new Map<string, Buffer>();
const deadline = Date.now() + 20_000;
while (found.size < samples.length && Date.now() < deadline) {
  for (const r of await reader.read())
    if (r.PartitionKey?.startsWith(`demo-${run}-`))
      found.set(r.PartitionKey, Buffer.from(r.Data as Uint8Array));
  await new Promise((r) => setTimeout(r, 200));
}

/** The `ownership.*` attributes of an output record, whatever its format. */
function ownershipOf(data: Buffer): Record<string, string> {
  let text = data.toString();
  if (data[0] === 0x1f) text = gunzipSync(data).toString();
  try {
    const parsed = JSON.parse(text.split('\n')[0] as string);
    const attributes: { key: string; value: { stringValue: string } }[] | undefined =
      parsed.resourceSpans?.[0]?.resource?.attributes;
    const flat = attributes
      ? Object.fromEntries(attributes.map((a) => [a.key, a.value.stringValue]))
      : parsed;
    return Object.fromEntries(Object.entries(flat).filter(([k]) => k.startsWith('ownership.'))) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}

for (const [i, [what, input]] of samples.entries()) {
  const out = found.get(`demo-${run}-${i}`);
  console.log(`● ${what}`);
  if (!out) console.log('    (not out yet: is `npm start` running?)');
  else if (out.equals(input)) console.log('    passed through unchanged (counted as RecordsPassedThrough)');
  else for (const [key, value] of Object.entries(ownershipOf(out))) console.log(`    ${key} = ${value}`);
}
process.exit(found.size === samples.length ? 0 : 1);
