/**
 * The synthesized stack, construct by construct: what `cdk deploy` would
 * create, its key properties, least privilege and the append-only audit rule.
 * Every synth here also runs cdk-nag (AwsSolutions): a finding throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { auditWriteActionsDenied } from '#infra/constructs/data-tables';
import { enrichMetrics, metricsNamespace, serviceNames } from '#shared/metrics/metric-names';
import { auditTable, catalogTable } from '#shared/store/table-definitions';
import { logicalId, policyStatements, synthStack } from './synth.ts';

const github = {
  issuer: 'https://token.actions.githubusercontent.com',
  audience: ['https://github.com/acme'],
};
const { template } = synthStack();
const full = synthStack({
  oidcIssuers: JSON.stringify([github]),
  otlpEndpoint: 'https://ingest.lightstep.com/traces/otlp/v0.9',
  corsOrigins: '["https://backstage.acme.example"]',
  parallelizationFactor: '4',
  alarmEmail: 'oncall@acme.example',
  logRetentionDays: '90',
}).template;

const ref = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('data tables', () => {
  for (const [definition, prefix] of [
    [catalogTable, 'DataCatalog'],
    [auditTable, 'DataAudit'],
  ] as const) {
    it(`${definition.id}: the keys of the shared definition, PITR, deletion protection, encryption, on demand`, () => {
      const id = logicalId(template, 'AWS::DynamoDB::GlobalTable', prefix);
      const table = template.toJSON().Resources[id];
      assert.deepEqual(table.Properties.KeySchema, [
        { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
      ]);
      assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
      assert.equal(table.Properties.SSESpecification.SSEEnabled, true);
      assert.equal(table.DeletionPolicy, 'Retain');
      const replica = table.Properties.Replicas[0];
      assert.equal(replica.DeletionProtectionEnabled, true);
      assert.equal(replica.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true);
    });
  }
});

describe('least privilege', () => {
  const statements = policyStatements(full);
  const audit = logicalId(full, 'AWS::DynamoDB::GlobalTable', 'DataAudit');

  it('every statement names its resources: no wildcard, and no X-Ray grant (tracing is off)', () => {
    assert.deepEqual(
      statements.filter((s) => JSON.stringify(s.resources).includes('"*"')),
      [],
    );
    assert.ok(!statements.some((s) => s.actions.some((a) => a.startsWith('xray:'))));
  });

  it('the audit table is append-only: no role may update, delete or batch-write it', () => {
    const onAudit = statements.filter((s) => JSON.stringify(s.resources).includes(audit));
    const allowed = onAudit.filter((s) => s.Effect === 'Allow').flatMap((s) => s.actions);
    assert.deepEqual([...new Set(allowed)].sort(), [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    for (const s of statements.filter((s) => s.Effect === 'Allow'))
      assert.ok(
        !s.actions.some((a) => a === '*' || a === 'dynamodb:*'),
        `no wildcard actions: ${JSON.stringify(s)}`,
      );
    // And an explicit deny on every role that touches data, so no later grant can open it.
    const api = logicalId(full, 'AWS::IAM::Role', 'CatalogApiApiRole');
    const enrich = logicalId(full, 'AWS::IAM::Role', 'IngestEnrichRole');
    for (const role of [api, enrich]) {
      const deny = onAudit.find((s) => s.Effect === 'Deny' && s.roles.includes(role));
      assert.ok(deny, `${role} has an explicit deny on the audit table`);
      assert.deepEqual(deny.actions, auditWriteActionsDenied);
    }
  });

  it('only the API writes the catalog; the enricher may only upsert unowned and observed sources', () => {
    const catalog = logicalId(full, 'AWS::DynamoDB::GlobalTable', 'DataCatalog');
    const enrich = logicalId(full, 'AWS::IAM::Role', 'IngestEnrichRole');
    const enrichWrites = statements.filter(
      (s) =>
        s.roles.includes(enrich) && s.Effect === 'Allow' && JSON.stringify(s.resources).includes(catalog),
    );
    const update = enrichWrites.find((s) => s.actions.includes('dynamodb:UpdateItem'));
    assert.deepEqual(update?.Condition, {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['unowned', 'observed'] },
    });
    assert.ok(!enrichWrites.some((s) => s.actions.some((a) => /PutItem|DeleteItem|BatchWrite/.test(a))));
  });

  it('the enricher may read only its own secret, and the authorizer touches no data', () => {
    const secret = logicalId(full, 'AWS::SecretsManager::Secret', 'IngestOtlpToken');
    const reads = statements.filter((s) => s.actions.includes('secretsmanager:GetSecretValue'));
    assert.equal(reads.length, 1);
    assert.deepEqual(reads[0]?.resources, [{ Ref: secret }]);
    assert.deepEqual(reads[0]?.roles, [logicalId(full, 'AWS::IAM::Role', 'IngestEnrichRole')]);
    const authorizer = logicalId(full, 'AWS::IAM::Role', 'CatalogApiAuthorizerRole');
    const authorizerActions = statements
      .filter((s) => s.roles.includes(authorizer) && s.Effect === 'Allow')
      .flatMap((s) => s.actions);
    assert.ok(
      authorizerActions.every((a) => a.startsWith('logs:')),
      authorizerActions.join(),
    );
  });
});

describe('functions', () => {
  it('Node.js 24 on arm64, untraced, with their own log groups and retention', () => {
    const functions = full.findResources('AWS::Lambda::Function');
    assert.equal(Object.keys(functions).length, 4);
    for (const fn of Object.values(functions) as { Properties: Record<string, unknown> }[]) {
      assert.equal(fn.Properties.Runtime, 'nodejs24.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.TracingConfig, undefined);
      assert.ok(fn.Properties.LoggingConfig);
    }
    full.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });
});

describe('ingest pipeline', () => {
  it('creates on-demand, encrypted streams with 7 days of retention', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    template.allResourcesProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      RetentionPeriodHours: 168,
    });
  });

  it('maps the input stream with partial batch responses, bisection, bounded retries and an on-failure queue', () => {
    const queue = logicalId(full, 'AWS::SQS::Queue', 'IngestFailedBatches');
    full.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      ParallelizationFactor: 4,
      BatchSize: 10_000,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: ref(queue) } },
    });
    full.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: 'alias/aws/sqs' });
  });

  it('adopts an existing input stream by ARN instead of creating one', () => {
    const arn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/otel-traces';
    const adopted = synthStack({ inputStreamArn: arn }).template;
    adopted.resourceCountIs('AWS::Kinesis::Stream', 1);
    adopted.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: arn });
  });

  it('forwards to OTLP only when configured, with the token secret by ARN', () => {
    const enrich = logicalId(full, 'AWS::Lambda::Function', 'IngestEnrich');
    const env = full.toJSON().Resources[enrich].Properties.Environment.Variables;
    assert.equal(env.OTLP_ENDPOINT, 'https://ingest.lightstep.com/traces/otlp/v0.9');
    assert.deepEqual(env.OTLP_TOKEN_SECRET_ARN, {
      Ref: logicalId(full, 'AWS::SecretsManager::Secret', 'IngestOtlpToken'),
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });
});

describe('catalog API and identity', () => {
  it('HTTP API behind a cached REQUEST authorizer, throttled, with JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 300,
      IdentitySource: ['$request.header.Authorization'],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'CUSTOM',
    });
    const stage = template.findResources('AWS::ApiGatewayV2::Stage');
    const props = (
      Object.values(stage)[0] as {
        Properties: {
          DefaultRouteSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
          AccessLogSettings: { Format: string };
        };
      }
    ).Properties;
    assert.ok(props.DefaultRouteSettings.ThrottlingRateLimit > 0);
    assert.ok(props.DefaultRouteSettings.ThrottlingBurstLimit > 0);
    assert.doesNotThrow(() => JSON.parse(props.AccessLogSettings.Format));
  });

  it('CORS is off unless origins are configured', () => {
    const api = (t: typeof template) =>
      (
        Object.values(t.findResources('AWS::ApiGatewayV2::Api'))[0] as {
          Properties: { CorsConfiguration?: { AllowOrigins: string[] } };
        }
      ).Properties;
    assert.equal(api(template).CorsConfiguration, undefined);
    assert.deepEqual(api(full).CorsConfiguration?.AllowOrigins, ['https://backstage.acme.example']);
  });

  it('a user pool with the four scopes, a client-credentials CI client and a hosted domain', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'portolan',
      Scopes: Match.arrayWith(
        ['catalog.read', 'catalog.write', 'audit.read', 'admin'].map((ScopeName) =>
          Match.objectLike({ ScopeName }),
        ),
      ),
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['client_credentials'],
      GenerateSecret: true,
    });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0] as {
      Properties: { AllowedOAuthScopes: unknown[] };
    };
    const scopes = client.Properties.AllowedOAuthScopes.map((s) => JSON.stringify(s));
    assert.equal(scopes.length, 2);
    assert.match(scopes.join(), /catalog\.read.*catalog\.write/, 'CI gets read and write, not admin');
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  });

  it('the authorizer trusts the user pool and every configured OIDC issuer', () => {
    const authorizer = logicalId(full, 'AWS::Lambda::Function', 'CatalogApiAuthorizer');
    const trusted = JSON.stringify(
      full.toJSON().Resources[authorizer].Properties.Environment.Variables.TRUSTED_ISSUERS,
    );
    assert.match(trusted, /\\"type\\":\\"cognito\\"/);
    assert.match(trusted, /token\.actions\.githubusercontent\.com/);
    assert.match(trusted, /https:\/\/github\.com\/acme/);
  });

  it('the authorizer refuses tokens valid for longer than the configured lifetime (24 hours unless set)', () => {
    const lifetimeOf = (t: typeof template) =>
      t.toJSON().Resources[logicalId(t, 'AWS::Lambda::Function', 'CatalogApiAuthorizer')].Properties
        .Environment.Variables.MAX_TOKEN_LIFETIME_SECONDS;
    assert.equal(lifetimeOf(template), '86400');
    const configured = synthStack({
      maxTokenLifetimeMinutes: '60',
      oidcIssuers: JSON.stringify([{ ...github, allowMultipleAudiences: true }]),
    }).template;
    assert.equal(lifetimeOf(configured), '3600');
    const authorizer = logicalId(configured, 'AWS::Lambda::Function', 'CatalogApiAuthorizer');
    const trusted = JSON.stringify(
      configured.toJSON().Resources[authorizer].Properties.Environment.Variables.TRUSTED_ISSUERS,
    );
    assert.match(trusted, /allowMultipleAudiences\\":true/);
  });
});

describe('observability', () => {
  it('alarms on iterator age, errors, throttles, failed batches and API 5xx, to an encrypted topic', () => {
    const metrics = Object.values(full.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { MetricName: string } }).Properties.MetricName,
    );
    for (const metric of ['IteratorAge', 'Errors', 'Throttles', 'ApproximateNumberOfMessagesVisible', '5xx'])
      assert.ok(metrics.includes(metric), `an alarm on ${metric} (${metrics.join(', ')})`);
    full.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [Match.anyValue()] });
    full.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    full.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@acme.example',
    });
    full.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('graphs the metrics the enricher publishes, under the service name the enricher runs with', () => {
    const [dashboard] = Object.values(full.findResources('AWS::CloudWatch::Dashboard')) as {
      Properties: { DashboardBody: unknown };
    }[];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const name of [
      enrichMetrics.recordsIn,
      enrichMetrics.sourcesUnowned,
      enrichMetrics.sourcesUnresolved,
    ])
      assert.ok(body.includes(`\\"${name}\\"`), `the dashboard graphs ${name}`);
    assert.ok(!body.includes('RecordsUnowned'), 'sources are not counted as records');
    assert.ok(body.includes(`\\"service\\",\\"${serviceNames.enrich}\\"`), body);
    const [enrich] = Object.values(
      full.findResources('AWS::Lambda::Function', {
        Properties: { Description: 'Portolan telemetry enrichment' },
      }),
    ) as { Properties: { Environment: { Variables: Record<string, string> } } }[];
    assert.equal(enrich?.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME, serviceNames.enrich);
    assert.equal(enrich?.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, metricsNamespace);
  });

  it('alarms when the API answers 503 because DynamoDB is unavailable (its DependencyUnavailable metric)', () => {
    full.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Portolan',
      MetricName: 'DependencyUnavailable',
      Dimensions: [{ Name: 'service', Value: 'portolan-api' }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
    });
    const [api] = Object.values(
      full.findResources('AWS::Lambda::Function', { Properties: { Description: 'Portolan catalog API' } }),
    ) as { Properties: { Environment: { Variables: Record<string, string> } } }[];
    const variables = api?.Properties.Environment.Variables ?? {};
    assert.deepEqual(
      [variables.POWERTOOLS_SERVICE_NAME, variables.POWERTOOLS_METRICS_NAMESPACE],
      ['portolan-api', 'Portolan'],
    );
  });
});

describe('outputs', () => {
  it('API URL, token URL, user pool and CI client ids, stream names, failed-batch queue', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of [
      'ApiUrl',
      'TokenUrl',
      'UserPoolId',
      'CiClientId',
      'InputStreamName',
      'OutputStreamName',
      'FailedBatchesQueueUrl',
    ])
      assert.ok(outputs.includes(name), `output ${name}`);
  });
});
