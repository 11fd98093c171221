/**
 * The ingest pipeline's options for records the enricher does not stamp and
 * for the streams' record size: what they add to the template, who may write
 * the quarantine stream, and what the function is told. cdk-nag runs on every synth.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logicalId, policyStatements, synthStack } from './synth.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const enrichEnvironment = (resources: Resources) => {
  const fn = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('IngestEnrich'),
  );
  assert.ok(fn, 'the enrich function');
  return (fn[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
};

describe('ingest pipeline: unvouched records and record size', () => {
  it('by default: pass-through, 1 MiB records, no quarantine stream', () => {
    const { template } = synthStack();
    const resources = template.toJSON().Resources as Resources;
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    const env = enrichEnvironment(resources);
    assert.equal(env.UNVOUCHED_RECORDS, 'passthrough');
    assert.equal(env.MAX_RECORD_BYTES, String(1024 * 1024));
    assert.equal(env.QUARANTINE_STREAM, undefined);
    for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::Kinesis::Stream'))
      assert.equal(r.Properties.MaxRecordSizeInKiB, undefined, "Kinesis's own default");
  });

  it('quarantine: a stream of its own, encrypted, written only by the enrich function, named to it', () => {
    const { template } = synthStack({ unvouchedRecords: 'quarantine', maxRecordSizeKiB: '4096' });
    const resources = template.toJSON().Resources as Resources;
    template.resourceCountIs('AWS::Kinesis::Stream', 3);
    const quarantine = logicalId(template, 'AWS::Kinesis::Stream', 'IngestQuarantineStream');
    const stream = resources[quarantine]?.Properties as Record<string, unknown>;
    assert.deepEqual(stream.StreamEncryption, { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::Kinesis::Stream'))
      assert.equal(r.Properties.MaxRecordSizeInKiB, 4096, 'every stream takes what the enricher writes');

    const env = enrichEnvironment(resources);
    assert.equal(env.UNVOUCHED_RECORDS, 'quarantine');
    assert.deepEqual(env.QUARANTINE_STREAM, { Ref: quarantine });
    assert.equal(env.MAX_RECORD_BYTES, String(4096 * 1024));

    const onQuarantine = policyStatements(template).filter((s) =>
      JSON.stringify(s.resources).includes(quarantine),
    );
    const enrichRole = logicalId(template, 'AWS::IAM::Role', 'IngestEnrichRole');
    assert.ok(onQuarantine.length > 0);
    for (const s of onQuarantine) {
      assert.deepEqual(s.roles, [enrichRole], 'only the enrich function');
      assert.equal(s.Effect, 'Allow');
      assert.deepEqual(
        s.actions.filter((a) => !a.startsWith('kinesis:Describe') && !a.startsWith('kinesis:List')),
        ['kinesis:PutRecord', 'kinesis:PutRecords'],
        'write, not read',
      );
    }
  });

  it('refuses a record size Kinesis does not offer, and an unknown option', () => {
    assert.throws(() => synthStack({ maxRecordSizeKiB: '512' }), /1024 to 10240/);
    assert.throws(() => synthStack({ maxRecordSizeKiB: '20000' }), /1024 to 10240/);
    assert.throws(
      () => synthStack({ unvouchedRecords: 'drop' }),
      /unvouchedRecords must be one of passthrough, quarantine/,
    );
  });
});

describe('ingest pipeline: the stamped ownership attributes', () => {
  it('full by default; a level, a comma list or a JSON list reach the function as its setting', () => {
    const environment = (context: Record<string, unknown>) =>
      enrichEnvironment(synthStack(context).template.toJSON().Resources as Resources).OWNERSHIP_ATTRIBUTES;
    assert.equal(environment({}), 'full');
    assert.equal(environment({ ownershipAttributes: 'minimal' }), 'minimal');
    assert.equal(
      environment({ ownershipAttributes: 'ownership.status,ownership.team' }),
      'ownership.status,ownership.team',
    );
    assert.equal(
      environment({ ownershipAttributes: ['ownership.status', 'ownership.tier'] }),
      'ownership.status,ownership.tier',
    );
    assert.equal(environment({ ownershipAttributes: '["ownership.team"]' }), 'ownership.team');
  });

  it('refuses an unknown level or attribute at synth, naming the prop', () => {
    assert.throws(
      () => synthStack({ ownershipAttributes: 'everything' }),
      /ownershipAttributes must be minimal/,
    );
    assert.throws(
      () => synthStack({ ownershipAttributes: 'ownership.team,ownership.colour' }),
      /ownershipAttributes .*unknown "ownership.colour"/,
    );
    assert.throws(() => synthStack({ ownershipAttributes: '[' }), /ownershipAttributes: not JSON/);
  });
});
