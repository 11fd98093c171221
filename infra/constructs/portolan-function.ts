/**
 * What every Portolan function shares, in one place: Node.js 24 on arm64, an
 * ESM bundle built by the project's own esbuild (never Docker) — minified,
 * tree-shaken, with source maps and the AWS SDK bundled — an explicit log
 * group with retention, and a role that may write only to that log group.
 * Each function's declaration then says only what is special about it.
 *
 * No X-Ray tracing: without a tracer instrumenting the SDK clients it records
 * only what the Lambda metrics already show, yet it needs the one `Resource: *`
 * grant X-Ray allows; and Powertools Tracer costs 1.1-1.7x init time and
 * ~125 KB of bundle per function (measured side by side, docs/benchmarks.md).
 */
import { join } from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { checkDuration, checkWholeNumber } from '#infra/constructs/prop-checks';
import { metricsNamespace, type ServiceName } from '#shared/metrics/metric-names';

export const projectRoot = join(import.meta.dirname, '..', '..');

export interface PortolanFunctionProps {
  /** Handler module, relative to the project root, exporting `handler`. */
  readonly entry: string;
  /** Its logs' `service` key and its metrics' `service` dimension, which alarms and dashboards select on. */
  readonly serviceName: ServiceName;
  /** What the function does, for the console and its role's description. */
  readonly description: string;
  /** MB, 128 to 10240; chosen per function from the benchmarks (see the call sites). */
  readonly memorySize: number;
  /** Whole seconds, 1 to 900. */
  readonly timeout: Duration;
  /** Variables besides the Powertools ones every function gets. @default none */
  readonly environment?: Record<string, string>;
  /** Log retention. @default one month */
  readonly logRetention?: RetentionDays;
}

export class PortolanFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PortolanFunctionProps) {
    checkWholeNumber(`PortolanFunction ${id}`, 'memorySize', props.memorySize, 128, 10_240);
    checkDuration(`PortolanFunction ${id}`, 'timeout', props.timeout, 'seconds', 1, 900);
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
      tracing: Tracing.DISABLED,
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
