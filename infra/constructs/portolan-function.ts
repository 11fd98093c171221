/**
 * What every Portolan function shares, in one place: Node.js 24 on arm64, an
 * ESM bundle built by the project's own esbuild (never Docker) — minified,
 * tree-shaken, with source maps and the AWS SDK bundled — an explicit log
 * group with retention, X-Ray tracing, and a role that may write only to that
 * log group. Each function's declaration then says only what is special about it.
 */
import { join } from 'node:path';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { metricsNamespace, type ServiceName } from '#shared/metrics/metric-names';

export const projectRoot = join(import.meta.dirname, '..', '..');

export interface PortolanFunctionProps {
  /** Handler module, relative to the project root, exporting `handler`. */
  entry: string;
  /** Its logs' `service` key and its metrics' `service` dimension, which alarms and dashboards select on. */
  serviceName: ServiceName;
  description: string;
  /** MB; chosen per function from the benchmarks (see the call sites). */
  memorySize: number;
  timeout: Duration;
  environment?: Record<string, string>;
  /** Log retention. @default one month */
  logRetention?: RetentionDays;
}

export class PortolanFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PortolanFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: logs to this log group only.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: join(projectRoot, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: portolanBundling,
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions; test/infra asserts it is the only wildcard.',
    });
  }
}

/** The bundling every function uses (bench/coldstart builds with exactly these options). */
export const portolanBundling = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  // ESM bundles of CommonJS dependencies still call require(); give them one.
  banner:
    "import { createRequire as __portolanRequire } from 'node:module'; const require = __portolanRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  metafile: true,
  // Bundle the SDK: tree-shaken, pinned to the tested version, faster to load than the runtime's copy.
  bundleAwsSDK: true,
  externalModules: [],
  forceDockerBundling: false,
};
