/**
 * The audit digests as deployed: a locked bucket no role can overwrite or
 * empty, a P-256 signing key only the digest function can sign with, an
 * hourly schedule. cdk-nag runs on every synth here (a finding throws).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestObjectChangesDenied } from '#infra/constructs/audit-digests';
import { logicalId, policyStatements, synthStack } from './synth.ts';

const { template } = synthStack();
const statements = policyStatements(template);
const resources = template.toJSON().Resources;
const bucket = logicalId(template, 'AWS::S3::Bucket', 'AuditDigestsBucket');
const digestRole = logicalId(template, 'AWS::IAM::Role', 'AuditDigestsDigestRole');
const key = logicalId(template, 'AWS::KMS::Key', 'AuditDigestsSigningKey');
const roleArn = { 'Fn::GetAtt': [digestRole, 'Arn'] };

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Condition?: unknown };
const bucketPolicy = (): Statement[] =>
  (
    Object.values(template.findResources('AWS::S3::BucketPolicy'))[0] as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }
  ).Properties.PolicyDocument.Statement;
const grants = (action: RegExp) =>
  statements.filter((s) => s.Effect === 'Allow' && s.actions.some((a) => action.test(a) || a === '*'));

describe('audit digest bucket', () => {
  it('Object Lock in compliance mode for 365 days, versioned, encrypted, no public access', () => {
    const props = resources[bucket].Properties;
    assert.equal(props.ObjectLockEnabled, true);
    assert.deepEqual(props.ObjectLockConfiguration, {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
    });
    assert.deepEqual(props.VersioningConfiguration, { Status: 'Enabled' });
    assert.equal(
      props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
      'AES256',
    );
    assert.deepEqual(props.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.equal(resources[bucket].DeletionPolicy, 'Retain');
  });

  it('takes its retention and schedule from the context', () => {
    const custom = synthStack({ auditDigestRetentionDays: '2555', auditDigestMinutes: '15' }).template;
    custom.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } } },
    });
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  it('TLS only; only the digest role writes, only create-only; no one deletes or unlocks an object', () => {
    const policy = bucketPolicy();
    assert.ok(
      policy.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport')),
    );
    const onlyDigest = policy.find((s) => s.Sid === 'OnlyTheDigestFunctionWrites');
    assert.deepEqual(onlyDigest?.Condition, { ArnNotEquals: { 'aws:PrincipalArn': roleArn } });
    const createOnly = policy.find((s) => s.Sid === 'CreateOnlyWrites');
    assert.deepEqual(createOnly?.Condition, { Null: { 's3:if-none-match': 'true' } });
    const noDelete = policy.find((s) => s.Sid === 'NoDeletionOrRetentionChange');
    assert.equal(noDelete?.Effect, 'Deny');
    assert.equal(noDelete?.Condition, undefined, 'for everyone, unconditionally');
    assert.deepEqual(noDelete?.Action, digestObjectChangesDenied);
  });

  it('no role is granted a write to the bucket but the digest role, and none a delete', () => {
    const writers = grants(/^s3:(Put|Delete|\*)/).filter((s) => JSON.stringify(s.resources).includes(bucket));
    assert.deepEqual(
      writers.map((s) => [s.roles, s.actions]),
      [[[digestRole], ['s3:PutObject', 's3:GetObject']]],
    );
    assert.deepEqual(grants(/^s3:Delete|Retention|LegalHold|BypassGovernance/), []);
    const apiRole = logicalId(template, 'AWS::IAM::Role', 'CatalogApiApiRole');
    const apiOnBucket = statements.filter(
      (s) => s.roles.includes(apiRole) && JSON.stringify(s.resources).includes(bucket),
    );
    assert.deepEqual(apiOnBucket.flatMap((s) => s.actions).sort(), ['s3:GetObject', 's3:ListBucket']);
  });
});

describe('audit digest signing key', () => {
  it('is an ECC_NIST_P256 SIGN_VERIFY key, kept on stack deletion', () => {
    assert.equal(resources[key].Properties.KeySpec, 'ECC_NIST_P256');
    assert.equal(resources[key].Properties.KeyUsage, 'SIGN_VERIFY');
    assert.equal(resources[key].DeletionPolicy, 'Retain');
  });

  it('only the digest function may kms:Sign: the only grant, and a key-policy deny for every other principal', () => {
    assert.deepEqual(
      grants(/^kms:(Sign|\*)$/).map((s) => s.roles),
      [[digestRole]],
    );
    const keyPolicy: Statement[] = resources[key].Properties.KeyPolicy.Statement;
    const deny = keyPolicy.find((s) => s.Sid === 'OnlyTheDigestFunctionSigns');
    assert.equal(deny?.Effect, 'Deny');
    assert.equal(deny?.Action, 'kms:Sign');
    assert.deepEqual(deny?.Condition, { ArnNotEquals: { 'aws:PrincipalArn': roleArn } });
  });
});

describe('digest function', () => {
  it('reads only the heads of the catalog, is denied audit changes, and gets the bucket and key from its environment', () => {
    const catalog = logicalId(template, 'AWS::DynamoDB::GlobalTable', 'DataCatalog');
    const own = statements.filter((s) => s.roles.includes(digestRole));
    const onCatalog = own.filter((s) => JSON.stringify(s.resources).includes(catalog));
    assert.deepEqual(
      onCatalog.map((s) => [s.actions, s.Condition]),
      [[['dynamodb:Query'], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['audit-head'] } }]],
    );
    const audit = logicalId(template, 'AWS::DynamoDB::GlobalTable', 'DataAudit');
    assert.ok(own.some((s) => s.Effect === 'Deny' && JSON.stringify(s.resources).includes(audit)));
    const fn = logicalId(template, 'AWS::Lambda::Function', 'AuditDigestsDigest');
    const env = resources[fn].Properties.Environment.Variables;
    assert.deepEqual(env.DIGEST_BUCKET, { Ref: bucket });
    assert.deepEqual(env.DIGEST_KEY_ID, { 'Fn::GetAtt': [key, 'Arn'] });
  });
});

describe('digest alarms', () => {
  it('alarm on a failed run and on no run for two intervals, to the alarm topic', () => {
    const fn = logicalId(template, 'AWS::Lambda::Function', 'AuditDigestsDigest');
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a).includes(fn),
    ) as { Properties: Record<string, unknown> }[];
    const byMetric = new Map(alarms.map((a) => [a.Properties.MetricName, a.Properties]));
    assert.equal(byMetric.get('Errors')?.Period, 3600);
    assert.equal(byMetric.get('Invocations')?.Period, 7200);
    assert.equal(byMetric.get('Invocations')?.TreatMissingData, 'breaching');
    for (const alarm of alarms) assert.equal((alarm.Properties.AlarmActions as unknown[]).length, 1);
  });
});
