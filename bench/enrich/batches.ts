/**
 * Full Kinesis batches for the enrichment benchmark, one per input format,
 * from the same producers the tests use (the OpenTelemetry JS SDK's own
 * serializers, CloudWatch Logs payloads as AWS documents them), and the
 * catalog they resolve against: 50 services in 10 teams, plus 5% of records
 * from sources nobody owns.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { CatalogStore, ChangeContext } from '#shared/store/catalog-store';
import { cloudWatchLogsPayload, sdkTraceRequest } from '../../test/support/telemetry-payloads.ts';

export const formats = ['OTLP JSON traces', 'OTLP protobuf traces', 'CloudWatch Logs', 'JSON lines'] as const;
export type Format = (typeof formats)[number];

const serviceCount = 50;
const serviceOf = (i: number) => (i % 20 === 19 ? `unowned-${i % 7}` : `svc-${i % serviceCount}`);

function recordData(format: Format, i: number): Buffer {
  const service = serviceOf(i);
  switch (format) {
    case 'OTLP JSON traces':
      return sdkTraceRequest({ 'service.name': service, 'deployment.environment.name': 'prod' }, 1, 'json');
    case 'OTLP protobuf traces':
      return sdkTraceRequest({ 'service.name': service, 'deployment.environment.name': 'prod' }, 2);
    case 'CloudWatch Logs':
      return cloudWatchLogsPayload(`/aws/lambda/${service}-handler`, [
        `START RequestId: ${i}`,
        `{"level":"INFO","msg":"order ${i} paid","amount":${i % 97}}`,
        `END RequestId: ${i}`,
      ]);
    case 'JSON lines':
      return Buffer.from(
        `${[0, 1, 2]
          .map((n) =>
            JSON.stringify({
              time: '2026-11-25T10:00:00.000Z',
              level: 'INFO',
              'service.name': service,
              msg: `order ${i}.${n} paid`,
              'trace.id': '5b8efff798038103d269b633813fc60c',
            }),
          )
          .join('\n')}\n`,
      );
  }
}

/** `count` records of one format as Lambda would deliver them. Distinct payloads are built once and reused. */
export function kinesisBatch(format: Format, count = 10_000): KinesisStreamEvent {
  const distinct = Array.from({ length: 140 }, (_, i) => recordData(format, i).toString('base64'));
  return {
    Records: Array.from({ length: count }, (_, i) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: `pk-${i}`,
        sequenceNumber: String(49_650_000_000_000_000_000_000_000_000n + BigInt(i)),
        data: distinct[i % distinct.length] as string,
        approximateArrivalTimestamp: 1764064800,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${i}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/portolan-enrich',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/portolan-telemetry-in',
    })),
  };
}

/** The benchmark's catalog, written through the real store (with audit events). */
export async function seedBenchCatalog(store: CatalogStore): Promise<void> {
  const ctx: ChangeContext = { actor: { iss: 'bench', sub: 'bench' } as never, requestId: 'bench' };
  for (let t = 0; t < 10; t++)
    await store.put(
      'team',
      { id: `team-${t}`, name: `Team ${t}`, contacts: { slack: `#team-${t}` } },
      undefined,
      ctx,
    );
  for (let s = 0; s < serviceCount; s++)
    await store.put(
      'service',
      {
        id: `svc-${s}`,
        team: `team-${s % 10}`,
        tier: 'tier-2',
        lifecycle: 'production',
        selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: `/aws/lambda/svc-${s}-` }],
      },
      undefined,
      ctx,
    );
}
