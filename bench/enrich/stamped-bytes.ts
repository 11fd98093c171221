/**
 * The bytes the enricher adds per choice of stamped ownership attributes
 * (`ownershipAttributes`: full, standard, minimal), on the benchmark's batches
 * of every format, against a catalog as complete as a real one (each service
 * with its name, repository, tier, lifecycle, runbook, data classification,
 * compliance scopes and environment; each team with Slack, e-mail and on-call
 * contacts). A record's size is its data plus its partition key, as Kinesis
 * counts it; billed sizes round each record up to 1 KB (on-demand) and to
 * 25 KB PUT payload units (provisioned).
 *
 *   npx tsx bench/enrich/stamped-bytes.ts [records per format=1400]
 */
import type { Environment, Repository, Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import type { CatalogSnapshot } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import { type OwnershipAttributeLevel, stampedAttributeSet } from '#shared/ownership/stamped-attributes';
import { enrichRecords, type OwnershipSource } from '#shared/telemetry/enrich-records';
import { formats, kinesisBatch } from './batches.ts';

const count = Number(process.argv[2] ?? 1400);

function completeCatalog(): OwnershipSource {
  const services = new Map<string, Service>();
  for (let s = 0; s < 50; s++)
    services.set(`svc-${s}`, {
      id: `svc-${s}`,
      name: `Service ${s}`,
      team: `team-${s % 10}`,
      repository: `github.com/acme/svc-${s}`,
      tier: 'tier-2',
      lifecycle: 'production',
      runbook: `https://runbooks.acme.example/svc-${s}`,
      dataClassification: 'internal',
      complianceScopes: ['soc2'],
      environments: ['prod'],
      selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: `/aws/lambda/svc-${s}-` }],
    } as unknown as Service);
  const team = (id: string): Team => ({
    id,
    name: `Team ${id.slice('team-'.length)}`,
    contacts: { slack: `#${id}`, email: `${id}@acme.example`, oncall: `${id}-primary` },
  });
  const repository = (id: string) => ({ id, team: 'team-0', url: `https://${id}` }) as Repository;
  const prod = { id: 'prod', cloud: { provider: 'aws', accountId: '123456789012' } } as Environment;
  const matcher = compileSelectors(
    [...services.values()].map(({ id, selectors }) => ({ id, selectors: selectors ?? [] })),
  );
  const snapshot: CatalogSnapshot = {
    service: (id) => services.get(id),
    team: (id) => (id.startsWith('team-') ? team(id) : undefined),
    repository: (id) => (id.startsWith('github.com/') ? repository(id) : undefined),
    environment: (id) => (id === 'prod' ? prod : undefined),
    selectors: () => matcher,
  };
  return { prefetch: async (_: SourceAttributes[]) => undefined, snapshot: () => snapshot };
}

const kib = 1024;
const sizes = (records: { data: Buffer; partitionKey: string }[]) => {
  let bytes = 0;
  let onDemand = 0;
  let putUnits = 0;
  for (const { data, partitionKey } of records) {
    const size = data.length + Buffer.byteLength(partitionKey);
    bytes += size;
    onDemand += Math.ceil(size / kib) * kib;
    putUnits += Math.ceil(size / (25 * kib));
  }
  return { bytes, onDemand, putUnits };
};
const ratio = (out: number, input: number) => `${(out / input).toFixed(3)}×`;

console.log(
  '| format | input bytes per record | attributes | output / input bytes | billed on-demand (1 KB) out / in | PUT payload units (25 KB) out / in |',
);
console.log('| --- | ---: | --- | ---: | ---: | ---: |');
for (const format of formats) {
  const inputs = kinesisBatch(format, count).Records.map((r) => ({
    id: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    data: Buffer.from(r.kinesis.data, 'base64'),
  }));
  const input = sizes(inputs);
  for (const level of ['full', 'standard', 'minimal'] as OwnershipAttributeLevel[]) {
    const stampedAttributes = stampedAttributeSet(level, 'level');
    const { outputs, counts } = await enrichRecords(inputs, {
      catalog: completeCatalog(),
      format: 'auto',
      ...(stampedAttributes ? { stampedAttributes } : {}),
    });
    if (counts.recordsEnriched !== inputs.length) throw new Error(`${format}: not every record was enriched`);
    const output = sizes(outputs);
    console.log(
      `| ${format} | ${Math.round(input.bytes / inputs.length)} | ${level} | ${ratio(output.bytes, input.bytes)} | ${ratio(output.onDemand, input.onDemand)} | ${ratio(output.putUnits, input.putUnits)} |`,
    );
  }
}
