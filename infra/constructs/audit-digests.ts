/**
 * Signed audit digests, anchored outside the tables: a scheduled function signs
 * every entity's audit head into a digest chain with an asymmetric KMS key that
 * only it may sign with, and stores each digest in an S3 bucket that nothing
 * can overwrite or delete before its retention ends.
 *
 * - Key: `ECC_NIST_P256` / `SIGN_VERIFY`. The key policy denies `kms:Sign` to
 *   every principal but the digest function's role, whatever their IAM policies say.
 * - Bucket: versioned, Object Lock in compliance mode (default retention 365
 *   days: not even the account root can delete a locked version early), S3
 *   managed encryption, TLS only, no public access. Its policy lets only the
 *   digest role put objects, only as create-only writes (`If-None-Match: *`),
 *   and denies everyone deleting versions or changing their retention.
 * - Readers (the API) get `GetObject` and `ListBucket` through `grantRead`.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectLockRetention,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DataTables } from '#infra/constructs/data-tables';
import { PortolanFunction } from '#infra/constructs/portolan-function';
import { checkDuration } from '#infra/constructs/prop-checks';
import { serviceNames } from '#shared/metrics/metric-names';
import { auditHeadPartition } from '#shared/store/audit-heads';

export interface AuditDigestsProps {
  /** The tables whose audit heads are signed. */
  readonly tables: DataTables;
  /** How often a digest is signed: the longest a tampering of the tables can stay unanchored. Whole minutes, 1 to 1440. @default 1 hour */
  readonly interval?: Duration;
  /** How long each digest object is locked (compliance mode). Whole days, at least 1. @default 365 days */
  readonly retention?: Duration;
  /** Retention of the digest function's logs. @default one month */
  readonly logRetention?: RetentionDays;
}

/** What no one may do to digest objects, asserted on the template. */
export const digestObjectChangesDenied = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
  's3:PutBucketObjectLockConfiguration',
  's3:PutLifecycleConfiguration',
];

export class AuditDigests extends Construct {
  readonly bucket: Bucket;
  readonly signingKey: Key;
  readonly digestFunction: PortolanFunction;
  /** A digest run failed, or none ran for two intervals: the tables are unanchored for longer than planned. */
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: AuditDigestsProps) {
    super(scope, id);
    checkDuration('AuditDigests', 'interval', props.interval, 'minutes', 1, 1440);
    checkDuration('AuditDigests', 'retention', props.retention, 'days', 1, 36_500);
    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(props.retention ?? Duration.days(365)),
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'Only the digest role can write (bucket policy, create-only) and nothing can delete (Object Lock, compliance); reads are the API and auditors, whose S3 calls CloudTrail data events record if enabled. An access-log bucket would itself be an unlocked, writable copy of less value.',
    });

    this.signingKey = new Key(this, 'SigningKey', {
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      description: 'Portolan audit digests: ECDSA P-256 signatures (only the digest function may sign)',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.digestFunction = new PortolanFunction(this, 'Digest', {
      entry: 'functions/digest/handler.ts',
      serviceName: serviceNames.digest,
      description: 'Portolan: signs the audit heads into the next digest',
      // One Query of the heads, a Merkle root and one signature: small and short.
      memorySize: 256,
      timeout: Duration.minutes(2),
      environment: {
        CATALOG_TABLE: props.tables.catalog.tableName,
        DIGEST_BUCKET: this.bucket.bucketName,
        DIGEST_KEY_ID: this.signingKey.keyArn,
      },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    const role = this.digestFunction.role;
    if (!role) throw new Error('the digest function has no role');
    this.grantHeadsRead(props.tables, role);
    props.tables.denyAuditChanges(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [this.signingKey.keyArn] }),
    );
    this.acknowledgeObjectWildcard(role);
    this.lockDown(role.roleArn);

    const interval = props.interval ?? Duration.hours(1);
    new Rule(this, 'Schedule', {
      description: 'Signs the next audit digest',
      schedule: Schedule.rate(interval),
      targets: [new LambdaFunction(this.digestFunction, { retryAttempts: 2 })],
    });
    this.alarms = this.digestAlarms(interval);
  }

  private digestAlarms(interval: Duration): Alarm[] {
    // CloudWatch evaluates at most one day at a time.
    const twoIntervals = Duration.seconds(Math.min(2 * interval.toSeconds(), 86_400));
    return [
      new Alarm(this, 'DigestFailed', {
        metric: this.digestFunction.metricErrors({ period: interval, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: 'An audit digest run failed: changes since the last digest are not anchored yet',
      }),
      new Alarm(this, 'DigestMissing', {
        metric: this.digestFunction.metricInvocations({ period: twoIntervals, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
        alarmDescription: 'No audit digest ran for two intervals: the digest schedule is stopped',
      }),
    ];
  }

  /** The API: read digests and the published public keys. */
  grantRead(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('*')] }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    if (fn.role) this.acknowledgeObjectWildcard(fn.role);
  }

  private acknowledgeObjectWildcard(role: IRole) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*]`,
      reason:
        'Objects of the digest bucket only: one object per digest, named by its number, so no fixed list of ARNs exists.',
    });
  }

  /** The heads only: a Query on the catalog table limited to their partition. */
  private grantHeadsRead(tables: DataTables, grantee: IGrantable) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [tables.catalog.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [auditHeadPartition] } },
      }),
    );
  }

  /** Resource policies that hold whatever IAM policies other roles are given. */
  private lockDown(digestRoleArn: string) {
    const everyone = new AnyPrincipal();
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheDigestFunctionWrites',
        effect: Effect.DENY,
        principals: [everyone],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': digestRoleArn } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CreateOnlyWrites',
        effect: Effect.DENY,
        principals: [everyone],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NoDeletionOrRetentionChange',
        effect: Effect.DENY,
        principals: [everyone],
        actions: digestObjectChangesDenied,
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    this.signingKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheDigestFunctionSigns',
        effect: Effect.DENY,
        principals: [everyone],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': digestRoleArn } },
      }),
    );
  }
}
