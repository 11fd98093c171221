/**
 * The CDK app. Every option is CDK context (`-c key=value` or `cdk.json`),
 * documented in docs/deployment.md. Synthesizes offline: no lookups,
 * an environment-agnostic stack unless `account`/`region` are given.
 */
import { App, Duration, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { z } from 'zod';
import type { ExternalIssuer } from '#infra/constructs/identity';
import {
  identityProvidersSchema,
  parseSetting,
  peopleSettingsSchemas,
} from '#infra/constructs/identity-providers';
import { PortolanStack, type PortolanStackProps } from '#infra/portolan-stack';

/** Reads the context into stack props; exported so tests synthesize exactly what `cdk deploy` does. */
export function stackPropsFromContext(app: App): PortolanStackProps {
  const text = (key: string) => {
    const value = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const json = <T>(key: string): T | undefined => {
    const value = app.node.tryGetContext(key);
    if (value === undefined || value === '') return undefined;
    return (typeof value === 'string' ? JSON.parse(value) : value) as T;
  };
  /** A JSON (or `-c key=<json>`) setting, validated: an error names the key and what is wrong. */
  const validated = <T>(key: string, schema: z.ZodType<T>): T | undefined => {
    let value = app.node.tryGetContext(key);
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
      try {
        value = JSON.parse(value);
      } catch (error) {
        throw new Error(`invalid context: ${key}: not JSON (${(error as Error).message})`);
      }
    }
    return parseSetting(key, schema, value);
  };
  const people = peopleSettingsSchemas;
  const refreshDays = validated('peopleRefreshTokenDays', people.peopleRefreshTokenDays);
  const number = (key: string) => (text(key) === undefined ? undefined : Number(text(key)));
  const account = text('account');
  const region = text('region');
  const props: PortolanStackProps = {
    cognitoDomainPrefix: text('cognitoDomainPrefix') ?? 'portolan-change-me',
    description: 'Portolan: ownership context for telemetry',
    ...(account && region ? { env: { account, region } } : {}),
  };
  const optional: Partial<PortolanStackProps> = {
    oidcIssuers: json<ExternalIssuer[]>('oidcIssuers'),
    inputStreamArn: text('inputStreamArn'),
    inputStreamKeyArn: text('inputStreamKeyArn'),
    parallelizationFactor: number('parallelizationFactor'),
    batchSize: number('batchSize'),
    cacheTtl:
      number('cacheTtlSeconds') === undefined
        ? undefined
        : Duration.seconds(number('cacheTtlSeconds') as number),
    inputFormat: text('inputFormat'),
    otlpEndpoint: text('otlpEndpoint'),
    otlpTokenSecretArn: text('otlpTokenSecretArn'),
    corsOrigins: json<string[]>('corsOrigins'),
    teamMembersPolicy: json<boolean>('teamMembersPolicy'),
    maxTokenLifetime:
      number('maxTokenLifetimeMinutes') === undefined
        ? undefined
        : Duration.minutes(number('maxTokenLifetimeMinutes') as number),
    apiRateLimit: number('apiRateLimit'),
    apiBurstLimit: number('apiBurstLimit'),
    alarmEmail: text('alarmEmail'),
    logRetention: number('logRetentionDays') as RetentionDays | undefined,
    unvouchedRecords: text('unvouchedRecords') as PortolanStackProps['unvouchedRecords'],
    maxRecordSizeKiB: number('maxRecordSizeKiB'),
    identityProviders: validated('identityProviders', identityProvidersSchema),
    peopleCallbackUrls: validated('peopleCallbackUrls', people.peopleCallbackUrls),
    peopleLogoutUrls: validated('peopleLogoutUrls', people.peopleLogoutUrls),
    peopleRefreshTokenValidity: refreshDays === undefined ? undefined : Duration.days(refreshDays),
    peopleCognitoUsers: validated('peopleCognitoUsers', people.peopleCognitoUsers),
    adminGroups: validated('adminGroups', people.adminGroups),
    auditDigestInterval:
      number('auditDigestMinutes') === undefined
        ? undefined
        : Duration.minutes(number('auditDigestMinutes') as number),
    auditDigestRetention:
      number('auditDigestRetentionDays') === undefined
        ? undefined
        : Duration.days(number('auditDigestRetentionDays') as number),
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined) Object.assign(props, { [key]: value });
  return props;
}

export function buildApp(app = new App()): { app: App; stack: PortolanStack } {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new PortolanStack(
    app,
    app.node.tryGetContext('stackName') ?? 'Portolan',
    stackPropsFromContext(app),
  );
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) buildApp().app.synth();
