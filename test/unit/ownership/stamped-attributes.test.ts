/**
 * Which `ownership.*` attributes a deployment stamps: each level and an
 * explicit list, through the enricher on OTLP protobuf, OTLP/JSON and JSON
 * lines; unknown names refused with the setting named; and a producer's own
 * `ownership.*` never reaching the output, whether or not the choice includes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment, Repository, Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { type CatalogSnapshot, resolveOwnership } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import {
  keepStamped,
  ownershipAttributeLevels,
  ownershipAttributeNames,
  ownershipAttributesText,
  parseOwnershipAttributesText,
  stampedAttributeSet,
} from '#shared/ownership/stamped-attributes';
import { enrichRecords, type OwnershipSource } from '#shared/telemetry/enrich-records';
import { otlpProto, sdkTraceRequest } from '../../support/telemetry-payloads.ts';

/** `checkout` with everything the catalog can say about a service, so `full` stamps every attribute. */
function completeCatalog(): OwnershipSource {
  const service = {
    id: 'checkout',
    name: 'Checkout',
    team: 'payments',
    repository: 'github.com/acme/checkout',
    tier: 'tier-1',
    lifecycle: 'production',
    runbook: 'https://runbooks.acme.example/checkout',
    dataClassification: 'confidential',
    complianceScopes: ['pci', 'sox'],
    environments: ['prod'],
    selectors: [],
  } as unknown as Service;
  const team = {
    id: 'payments',
    name: 'Payments',
    contacts: { slack: '#payments', email: 'payments@acme.example', oncall: 'payments-primary' },
  } as Team;
  const repository = { id: service.repository, team: 'payments', url: 'https://github.com/acme/checkout' };
  const environment = { id: 'prod', cloud: { provider: 'aws', accountId: '123456789012' } } as Environment;
  const matcher = compileSelectors([]);
  const snapshot: CatalogSnapshot = {
    service: (id) => (id === 'checkout' ? service : undefined),
    team: (id) => (id === 'payments' ? team : undefined),
    repository: (id) => (id === repository.id ? (repository as Repository) : undefined),
    environment: (id) => (id === 'prod' ? environment : undefined),
    selectors: () => matcher,
  };
  return { prefetch: async (_: SourceAttributes[]) => undefined, snapshot: () => snapshot };
}

/** The producer's claims: one attribute every level stamps, one only `full` does. */
const producerClaims = { 'ownership.team': 'evil', 'ownership.data_classification': 'public' };

type KeyValue = { key: string; value: { stringValue?: string } };
const ownershipOf = (pairs: [string, unknown][]) =>
  Object.fromEntries(pairs.filter(([key]) => key.startsWith('ownership.')));

/** The `ownership.*` attributes each consumer reads from one record of each format. */
async function stampedWith(stampedAttributes: ReadonlySet<string> | undefined) {
  const records = {
    protobuf: sdkTraceRequest({ 'service.name': 'checkout', ...producerClaims }, 1),
    json: sdkTraceRequest({ 'service.name': 'checkout', ...producerClaims }, 1, 'json'),
    line: Buffer.from(`${JSON.stringify({ 'service.name': 'checkout', msg: 'paid', ...producerClaims })}\n`),
  };
  const { outputs } = await enrichRecords(
    Object.entries(records).map(([id, data]) => ({ id, partitionKey: id, data })),
    { catalog: completeCatalog(), format: 'auto', ...(stampedAttributes ? { stampedAttributes } : {}) },
  );
  const out = (id: string) => outputs.find((o) => o.id === id)?.data as Buffer;
  const resource = (request: { resourceSpans: { resource: { attributes: KeyValue[] } }[] }) =>
    ownershipOf(
      (request.resourceSpans[0]?.resource.attributes ?? []).map((a) => [a.key, a.value.stringValue]),
    );
  return {
    protobuf: resource(otlpProto.traces.toObject(otlpProto.traces.decode(out('protobuf'))) as never),
    json: resource(JSON.parse(out('json').toString())),
    line: ownershipOf(Object.entries(JSON.parse(out('line').toString()))),
  };
}

describe('stamped ownership attributes', () => {
  it('full (the default) is every attribute resolution stamps, nothing left out', async () => {
    const result = resolveOwnership({ 'service.name': 'checkout' }, completeCatalog().snapshot());
    assert.deepEqual(Object.keys(result.attributes), [...ownershipAttributeNames]);
    assert.equal(stampedAttributeSet('full', 'setting'), undefined);
    const stamped = await stampedWith(undefined);
    for (const consumer of Object.values(stamped)) {
      assert.deepEqual(Object.keys(consumer).sort(), [...ownershipAttributeNames].sort());
      assert.equal(consumer['ownership.team'], 'payments', "Portolan's team, not the producer's");
      assert.equal(consumer['ownership.data_classification'], 'confidential');
    }
  });

  for (const level of ['minimal', 'standard'] as const)
    it(`${level}: exactly its attributes, and none of the producer's`, async () => {
      const stamped = await stampedWith(stampedAttributeSet(level, 'setting'));
      for (const [format, consumer] of Object.entries(stamped)) {
        assert.deepEqual(Object.keys(consumer).sort(), [...ownershipAttributeLevels[level]].sort(), format);
        assert.equal(consumer['ownership.team'], 'payments', `${format}: Portolan's team`);
        // Not chosen, and the producer's value is not let through in its place.
        assert.equal(consumer['ownership.data_classification'], undefined, format);
      }
    });

  it('minimal is status, team, service and match; standard adds what routing needs', () => {
    assert.deepEqual([...ownershipAttributeLevels.minimal].sort(), [
      'ownership.match',
      'ownership.service',
      'ownership.status',
      'ownership.team',
    ]);
    for (const name of ownershipAttributeLevels.minimal)
      assert.ok((ownershipAttributeLevels.standard as readonly string[]).includes(name));
  });

  it('an explicit list: those attributes and no others', async () => {
    const list = ['ownership.status', 'ownership.contact.oncall'];
    const stamped = await stampedWith(stampedAttributeSet(list, 'setting'));
    for (const [format, consumer] of Object.entries(stamped))
      assert.deepEqual(
        consumer,
        { 'ownership.status': 'owned', 'ownership.contact.oncall': 'payments-primary' },
        format,
      );
  });

  it('refuses an unknown level or name and an empty list, naming the setting', () => {
    assert.throws(
      () => stampedAttributeSet('everything', 'ownershipAttributes'),
      /^Error: ownershipAttributes must be minimal, standard, full or a list .*"everything"/,
    );
    assert.throws(
      () => stampedAttributeSet(['ownership.team', 'ownership.colour'], 'OWNERSHIP_ATTRIBUTES'),
      /^Error: OWNERSHIP_ATTRIBUTES .*unknown "ownership.colour"/,
    );
    assert.throws(() => stampedAttributeSet(['team'], 'x'), /unknown "team"/);
    assert.throws(() => stampedAttributeSet([], 'x'), /the list is empty/);
    assert.throws(() => stampedAttributeSet({ team: true } as never, 'x'), /neither a level nor a list/);
  });

  it('as text (environment, CDK context): a level or names separated by commas, both ways', () => {
    assert.equal(parseOwnershipAttributesText(' standard '), 'standard');
    assert.deepEqual(parseOwnershipAttributesText('ownership.status, ownership.team'), [
      'ownership.status',
      'ownership.team',
    ]);
    assert.deepEqual(parseOwnershipAttributesText('team,status'), ['team', 'status']);
    const list = ['ownership.status', 'ownership.tier'];
    assert.deepEqual(parseOwnershipAttributesText(ownershipAttributesText(list)), list);
    assert.equal(ownershipAttributesText('minimal'), 'minimal');
  });

  it('keeps the same object when nothing is left out (encoders cache by identity)', () => {
    const attributes = { 'ownership.status': 'owned', 'ownership.team': 'payments' };
    assert.equal(keepStamped(attributes, undefined), attributes);
    assert.deepEqual(keepStamped(attributes, new Set(['ownership.team'])), { 'ownership.team': 'payments' });
  });
});
