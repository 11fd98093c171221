/**
 * The catalog API: an HTTP API whose every request (`$default` route, so even
 * unknown paths get a problem+json answer) passes the Lambda authorizer and
 * reaches one API function. Throttled, with JSON access logs; CORS only when
 * origins are configured.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DataTables } from '#infra/constructs/data-tables';
import { PortolanFunction } from '#infra/constructs/portolan-function';
import { checkDuration, checkPositive, checkUrl, checkWholeNumber } from '#infra/constructs/prop-checks';
import type { TrustedIssuer } from '#shared/auth/token-verifier';
import { serviceNames } from '#shared/metrics/metric-names';

export interface CatalogApiProps {
  /** The catalog and audit tables the API function reads and writes. */
  readonly tables: DataTables;
  /** Token issuers the authorizer trusts (at least one). */
  readonly trustedIssuers: TrustedIssuer[];
  /** The longest a presented token may still be valid (`exp` − now); longer-lived tokens are refused. @default 24 hours */
  readonly maxTokenLifetime?: Duration;
  /** Steady-state requests per second across the API (positive). @default 50 */
  readonly rateLimit?: number;
  /** Burst of requests (a whole number, at least 1). @default 100 */
  readonly burstLimit?: number;
  /** Browser origins allowed by CORS (`https://…`, or `http://…` for local tools). @default none: CORS off */
  readonly corsOrigins?: string[];
  /** Retention of the functions' logs. @default one month */
  readonly logRetention?: RetentionDays;
}

/** Refuses props API Gateway or the authorizer would refuse later, naming the prop. */
function checkCatalogApiProps(props: CatalogApiProps): void {
  const construct = 'CatalogApi';
  if (props.trustedIssuers.length === 0)
    throw new Error(`${construct}: trustedIssuers must list at least one issuer (got none)`);
  checkDuration(construct, 'maxTokenLifetime', props.maxTokenLifetime, 'seconds', 1, Number.MAX_SAFE_INTEGER);
  checkPositive(construct, 'rateLimit', props.rateLimit);
  checkWholeNumber(construct, 'burstLimit', props.burstLimit, 1, Number.MAX_SAFE_INTEGER);
  for (const [i, origin] of (props.corsOrigins ?? []).entries())
    checkUrl(construct, `corsOrigins[${i}]`, origin, ['https:', 'http:']);
}

export class CatalogApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly apiFunction: PortolanFunction;
  readonly authorizerFunction: PortolanFunction;
  readonly url: string;

  constructor(scope: Construct, id: string, props: CatalogApiProps) {
    super(scope, id);
    checkCatalogApiProps(props);
    const { tables } = props;

    this.apiFunction = new PortolanFunction(this, 'Api', {
      entry: 'functions/api/handler.ts',
      serviceName: serviceNames.api,
      description: 'Portolan catalog API',
      // 512 MB: Lambda's CPU share scales with memory, and init (114 ms on a full local core,
      // bench/coldstart) and the handler's own time (5 ms GET, 44 ms PUT, bench/api) are CPU-bound
      // work that a 128 MB slice would stretch several-fold. A request is a few DynamoDB round trips.
      memorySize: 512,
      timeout: Duration.seconds(10),
      environment: { CATALOG_TABLE: tables.catalog.tableName, AUDIT_TABLE: tables.audit.tableName },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    tables.grantCatalogReadWrite(this.apiFunction);
    tables.grantAppend(this.apiFunction);

    this.authorizerFunction = new PortolanFunction(this, 'Authorizer', {
      entry: 'functions/authorizer/handler.ts',
      serviceName: serviceNames.authorizer,
      description: 'Portolan JWT authorizer',
      // 256 MB: RS256 verification is light; results are cached per token by API Gateway.
      memorySize: 256,
      timeout: Duration.seconds(5),
      environment: {
        TRUSTED_ISSUERS: Stack.of(this).toJsonString(props.trustedIssuers),
        MAX_TOKEN_LIFETIME_SECONDS: String((props.maxTokenLifetime ?? Duration.hours(24)).toSeconds()),
      },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    tables.denyAuditChanges(this.authorizerFunction);

    const authorizer = new HttpLambdaAuthorizer('JwtAuthorizer', this.authorizerFunction, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      // Five minutes: a revoked client stops within that; the API re-checks `exp` on every request.
      resultsCacheTtl: Duration.minutes(5),
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Portolan ownership catalog',
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('ApiIntegration', this.apiFunction),
      defaultAuthorizer: authorizer,
      ...(props.corsOrigins?.length
        ? {
            corsPreflight: {
              allowOrigins: props.corsOrigins,
              allowMethods: [
                CorsHttpMethod.GET,
                CorsHttpMethod.PUT,
                CorsHttpMethod.POST,
                CorsHttpMethod.DELETE,
              ],
              allowHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match'],
              exposeHeaders: ['etag'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.url = this.stage.url;
  }
}
