/**
 * Construct props are checked at synth: a bad value throws an error naming
 * the construct and the prop, before CloudFormation or a function sees it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AuditDigests } from '#infra/constructs/audit-digests';
import { CatalogApi } from '#infra/constructs/catalog-api';
import { DataTables } from '#infra/constructs/data-tables';
import { Identity } from '#infra/constructs/identity';
import { IngestPipeline, type IngestPipelineProps } from '#infra/constructs/ingest-pipeline';
import { Observability } from '#infra/constructs/observability';
import type { InputFormat } from '#shared/telemetry/record-codec';
import { synthStack } from './synth.ts';

const bareStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');

/** Asserts that building throws an error naming `prop` and, when given, the value. */
function refuses(build: () => unknown, construct: string, prop: string) {
  assert.throws(build, (error: Error) => {
    assert.ok(error.message.startsWith(`${construct}: ${prop} must be `), error.message);
    return true;
  });
}

describe('construct props are checked at synth', () => {
  const ingest = (props: Partial<IngestPipelineProps>) => () => {
    const stack = bareStack();
    new IngestPipeline(stack, 'Ingest', { tables: new DataTables(stack, 'Data'), ...props });
  };

  for (const [prop, value] of [
    ['parallelizationFactor', 0],
    ['parallelizationFactor', 11],
    ['parallelizationFactor', 1.5],
    ['batchSize', 0],
    ['batchSize', 10_001],
    ['batchSize', Number.NaN],
    ['cacheTtl', Duration.seconds(Number.NaN)],
    ['cacheTtl', Duration.days(2)],
    ['cacheTtl', Duration.millis(1500)],
    ['inputFormat', 'otlp-protobuf' as InputFormat],
    ['otlpEndpoint', 'http://collector.acme.example/v1/traces'],
    ['otlpEndpoint', 'collector.acme.example'],
    ['unvouchedRecords', 'drop' as 'quarantine'],
    ['maxRecordSizeKiB', 512],
    ['maxRecordSizeKiB', 20_480],
  ] as const) {
    it(`IngestPipeline refuses ${prop} = ${String(value)}`, () => {
      refuses(ingest({ [prop]: value }), 'IngestPipeline', prop);
    });
  }

  it('IngestPipeline refuses a token secret without an endpoint, and a key without an adopted stream', () => {
    refuses(
      ingest({ otlpTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:otlp' }),
      'IngestPipeline',
      'otlpTokenSecretArn',
    );
    refuses(
      ingest({ inputStreamKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' }),
      'IngestPipeline',
      'inputStreamKeyArn',
    );
  });

  it('IngestPipeline takes every input format the enricher knows', () => {
    for (const inputFormat of ['auto', 'otlp-proto-logs', 'json-lines'] as const) ingest({ inputFormat })();
  });

  it('CatalogApi refuses bad limits, lifetimes, origins and no issuer', () => {
    const api =
      (props: object, issuers = [{ type: 'oidc', issuer: 'https://i.example', audience: ['a'] }]) =>
      () => {
        const stack = bareStack();
        new CatalogApi(stack, 'Api', {
          tables: new DataTables(stack, 'Data'),
          trustedIssuers: issuers as never,
          ...props,
        });
      };
    refuses(api({ rateLimit: 0 }), 'CatalogApi', 'rateLimit');
    refuses(api({ burstLimit: 2.5 }), 'CatalogApi', 'burstLimit');
    refuses(api({ maxTokenLifetime: Duration.seconds(0) }), 'CatalogApi', 'maxTokenLifetime');
    refuses(api({ corsOrigins: ['https://ok.example', 'backstage'] }), 'CatalogApi', 'corsOrigins[1]');
    assert.throws(api({}, []), /^Error: CatalogApi: trustedIssuers must list at least one issuer/);
  });

  it('AuditDigests refuses an interval or retention that is not whole minutes or days', () => {
    const digests = (props: object) => () => {
      const stack = bareStack();
      new AuditDigests(stack, 'Digests', { tables: new DataTables(stack, 'Data'), ...props });
    };
    refuses(digests({ interval: Duration.seconds(30) }), 'AuditDigests', 'interval');
    refuses(digests({ interval: Duration.days(2) }), 'AuditDigests', 'interval');
    refuses(digests({ retention: Duration.hours(12) }), 'AuditDigests', 'retention');
  });

  it('Identity refuses a domain prefix and token lifetimes Cognito would refuse', () => {
    const identity = (props: object) => () =>
      new Identity(bareStack(), 'Identity', { domainPrefix: 'acme-portolan', ...props });
    refuses(identity({ domainPrefix: 'Acme_Portolan' }), 'Identity', 'domainPrefix');
    refuses(identity({ accessTokenValidity: Duration.minutes(2) }), 'Identity', 'accessTokenValidity');
    refuses(
      identity({ people: { refreshTokenValidity: Duration.minutes(10) }, identityProviders: [] }),
      'Identity',
      'people.refreshTokenValidity',
    );
  });

  it('Observability refuses an alarm e-mail that is not an address and a zero iterator age', () => {
    const observability = (props: object) => () => {
      const stack = bareStack();
      const fn = new LambdaFunction(stack, 'Fn', {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async () => {}'),
      });
      new Observability(stack, 'Observability', {
        functions: { api: fn, authorizer: fn, enrich: fn },
        httpApi: new HttpApi(stack, 'Http'),
        failedBatches: new Queue(stack, 'Failed'),
        ...props,
      });
    };
    refuses(observability({ alarmEmail: 'oncall' }), 'Observability', 'alarmEmail');
    refuses(observability({ maxIteratorAge: Duration.seconds(0) }), 'Observability', 'maxIteratorAge');
  });

  it('the app refuses a context number that is not one, naming the key', () => {
    assert.throws(
      () => synthStack({ cacheTtlSeconds: '60s' }),
      /invalid context: cacheTtlSeconds: 60s is not a number/,
    );
    assert.throws(
      () => synthStack({ inputFormat: 'protobuf' }),
      /IngestPipeline: inputFormat must be one of auto, /,
    );
  });
});
