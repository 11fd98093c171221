/**
 * Portolan in one stack. Read this file to draw the architecture:
 * identity → catalog API (authorizer + API function) → data tables (catalog,
 * append-only audit) ← ingest pipeline (Kinesis in → enrich → Kinesis out),
 * audit digests (heads signed hourly into a locked bucket, read by the API),
 * all watched by observability.
 */
import { CfnOutput, type Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Construct } from 'constructs';
import { AuditDigests } from '#infra/constructs/audit-digests';
import { CatalogApi, type CatalogApiProps } from '#infra/constructs/catalog-api';
import { DataTables } from '#infra/constructs/data-tables';
import { type ExternalIssuer, Identity } from '#infra/constructs/identity';
import type { IdentityProviderConfig } from '#infra/constructs/identity-providers';
import { IngestPipeline, type IngestPipelineProps } from '#infra/constructs/ingest-pipeline';
import { Observability } from '#infra/constructs/observability';

/** The stack's options: the pipeline's and the API's own (documented there), and what the stack adds. */
export interface PortolanStackProps
  extends StackProps,
    Omit<IngestPipelineProps, 'tables'>,
    Pick<CatalogApiProps, 'corsOrigins' | 'logRetention' | 'maxTokenLifetime'> {
  /** Cognito hosted domain prefix (globally unique). */
  cognitoDomainPrefix: string;
  /** OIDC issuers trusted besides the user pool (GitHub Actions, Okta, Entra ID...). */
  oidcIssuers?: ExternalIssuer[];
  /** The company IdPs people sign in through (docs/deployment.md: Sign-in for people). @default none */
  identityProviders?: IdentityProviderConfig[];
  /** Managed-login redirect URLs of the people app client. @default the CLI's loopback */
  peopleCallbackUrls?: string[];
  /** Sign-out redirect URLs. @default the callback URLs */
  peopleLogoutUrls?: string[];
  /** A person's refresh token lifetime. @default 30 days */
  peopleRefreshTokenValidity?: Duration;
  /** Let the pool's own (admin-created) users sign in too. @default false */
  peopleCognitoUsers?: boolean;
  /** Groups (`<idp-name>:<group>`) whose members administer Portolan, passed as `ADMIN_GROUPS`. */
  adminGroups?: string[];
  /** API Gateway steady-state requests per second. */
  apiRateLimit?: number;
  /** API Gateway burst. */
  apiBurstLimit?: number;
  /** Subscribed to the alarm topic. */
  alarmEmail?: string;
  /** Turn on `builtin/team-members`: people change their teams' services and repositories. @default false */
  teamMembersPolicy?: boolean;
  /** How often an audit digest is signed. @default 1 hour */
  auditDigestInterval?: Duration;
  /** How long each digest is locked (Object Lock, compliance mode). @default 365 days */
  auditDigestRetention?: Duration;
}

export class PortolanStack extends Stack {
  readonly tables: DataTables;
  readonly identity: Identity;
  readonly api: CatalogApi;
  readonly pipeline: IngestPipeline;
  readonly digests: AuditDigests;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: PortolanStackProps) {
    super(scope, id, props);
    this.tables = new DataTables(this, 'Data');
    this.identity = new Identity(this, 'Identity', {
      domainPrefix: props.cognitoDomainPrefix,
      ...(props.oidcIssuers ? { externalIssuers: props.oidcIssuers } : {}),
      ...(props.identityProviders ? { identityProviders: props.identityProviders } : {}),
      people: {
        ...(props.peopleCallbackUrls ? { callbackUrls: props.peopleCallbackUrls } : {}),
        ...(props.peopleLogoutUrls ? { logoutUrls: props.peopleLogoutUrls } : {}),
        ...(props.peopleRefreshTokenValidity
          ? { refreshTokenValidity: props.peopleRefreshTokenValidity }
          : {}),
        ...(props.peopleCognitoUsers ? { cognitoUsers: true } : {}),
      },
      ...pick(props, ['logRetention']),
    });
    this.api = new CatalogApi(this, 'CatalogApi', {
      tables: this.tables,
      trustedIssuers: this.identity.trustedIssuers,
      ...pick(props, ['corsOrigins', 'logRetention', 'maxTokenLifetime']),
      ...(props.apiRateLimit ? { rateLimit: props.apiRateLimit } : {}),
      ...(props.apiBurstLimit ? { burstLimit: props.apiBurstLimit } : {}),
    });
    if (props.teamMembersPolicy === true) this.api.apiFunction.addEnvironment('TEAM_MEMBERS_POLICY', 'on');
    this.pipeline = new IngestPipeline(this, 'Ingest', {
      tables: this.tables,
      ...pick(props, [
        'inputStreamArn',
        'inputStreamKeyArn',
        'parallelizationFactor',
        'batchSize',
        'cacheTtl',
        'inputFormat',
        'otlpEndpoint',
        'otlpTokenSecretArn',
        'logRetention',
        'unvouchedRecords',
        'maxRecordSizeKiB',
      ]),
    });
    this.digests = new AuditDigests(this, 'AuditDigests', {
      tables: this.tables,
      ...(props.auditDigestInterval ? { interval: props.auditDigestInterval } : {}),
      ...(props.auditDigestRetention ? { retention: props.auditDigestRetention } : {}),
      ...pick(props, ['logRetention']),
    });
    const adminGroups = JSON.stringify(props.adminGroups ?? []);
    for (const fn of [this.api.apiFunction, this.api.authorizerFunction])
      fn.addEnvironment('ADMIN_GROUPS', adminGroups);
    this.digests.grantRead(this.api.apiFunction);
    this.api.apiFunction.addEnvironment('DIGEST_BUCKET', this.digests.bucket.bucketName);

    this.observability = new Observability(this, 'Observability', {
      functions: {
        api: this.api.apiFunction,
        authorizer: this.api.authorizerFunction,
        enrich: this.pipeline.enrichFunction,
      },
      httpApi: this.api.httpApi,
      failedBatches: this.pipeline.failedBatches,
      ...pick(props, ['alarmEmail']),
    });
    for (const alarm of this.digests.alarms) {
      alarm.addAlarmAction(new SnsAction(this.observability.alarmTopic));
      alarm.addOkAction(new SnsAction(this.observability.alarmTopic));
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'PORTOLAN_API_URL' });
    new CfnOutput(this, 'TokenUrl', {
      value: this.identity.tokenUrl,
      description: 'PORTOLAN_TOKEN_URL (client credentials)',
    });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'CiClientId', {
      value: this.identity.ciClient.userPoolClientId,
      description: 'PORTOLAN_CLIENT_ID',
    });
    if (this.identity.peopleClient) {
      new CfnOutput(this, 'PeopleClientId', {
        value: this.identity.peopleClient.userPoolClientId,
        description: 'app client people sign in with (authorization code + PKCE, no secret)',
      });
      new CfnOutput(this, 'SignInUrl', {
        value: this.identity.domainUrl,
        description: 'managed login and OAuth endpoints (/oauth2/authorize, /oauth2/token)',
      });
    }
    new CfnOutput(this, 'InputStreamName', { value: this.pipeline.inputStream.streamName });
    new CfnOutput(this, 'OutputStreamName', { value: this.pipeline.outputStream.streamName });
    if (this.pipeline.quarantineStream)
      new CfnOutput(this, 'QuarantineStreamName', { value: this.pipeline.quarantineStream.streamName });
    new CfnOutput(this, 'FailedBatchesQueueUrl', { value: this.pipeline.failedBatches.queueUrl });
    new CfnOutput(this, 'AuditDigestBucket', { value: this.digests.bucket.bucketName });
    new CfnOutput(this, 'AuditDigestKeyArn', {
      value: this.digests.signingKey.keyArn,
      description: 'aws kms get-public-key --key-id <this>: the key an auditor verifies digests with',
    });
  }
}

/** The props that are set, so optional construct props stay absent rather than undefined. */
function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(
    keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]),
  ) as Partial<Pick<T, K>>;
}
