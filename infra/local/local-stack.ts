/**
 * The whole of Portolan on one machine, from real components: DynamoDB Local,
 * kinesis-mock, an OIDC issuer, and a gateway running the Lambda handlers.
 * `npm start` and the test harness both start it through `startLocalStack`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureDevCertificates } from '#infra/local/dev-ca';
import { startDigestSchedule } from '#infra/local/digest-schedule';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { startKinesisMock } from '#infra/local/kinesis-mock';
import { startKinesisPoller } from '#infra/local/kinesis-poller';
import { startLocalGateway } from '#infra/local/local-gateway';
import type { LocalStackState } from '#infra/local/local-state';
import { ensureIssuerSecrets, startOidcIssuer } from '#infra/local/oidc-issuer';
import { claimPort } from '#infra/local/ports';
import { createStreams, createTables, localStreamNames, localTableNames } from '#infra/local/provision';
import { requestAccessToken } from '#shared/auth/client-credentials';
import { createKinesisClient } from '#shared/aws/kinesis-client';

export type { LocalStackState } from '#infra/local/local-state';

export interface LocalStackOptions {
  stateDir: string;
  /** Keep nothing on disk but certificates and keys (tests). */
  inMemory?: boolean;
  seed?: boolean;
  /** Where the DynamoDB Local download is cached. */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunningLocalStack {
  state: LocalStackState;
  stateFile: string;
  /** The emulators' process ids (DynamoDB Local, kinesis-mock). */
  childPids: number[];
  stop(): Promise<void>;
}

export const portVariables = {
  api: { variable: 'PORTOLAN_API_PORT', fallback: 4000 },
  issuer: { variable: 'PORTOLAN_ISSUER_PORT', fallback: 4001 },
  dynamodb: { variable: 'PORTOLAN_DYNAMODB_PORT', fallback: 4002 },
  kinesis: { variable: 'PORTOLAN_KINESIS_PORT', fallback: 4003 },
  kinesisTls: { variable: 'PORTOLAN_KINESIS_TLS_PORT', fallback: 4004 },
} as const;

const region = 'us-east-1';
const audience = 'portolan-api';

export async function startLocalStack(options: LocalStackOptions): Promise<RunningLocalStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
    stops.length = 0;
  };

  try {
    const ports = {
      api: await claimPort(portVariables.api, env),
      issuer: await claimPort(portVariables.issuer, env),
      dynamodb: await claimPort(portVariables.dynamodb, env),
      kinesis: await claimPort(portVariables.kinesis, env),
      kinesisTls: await claimPort(portVariables.kinesisTls, env),
    };
    const aws = {
      accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    };
    const dataDir = (name: string) => (options.inMemory ? undefined : join(stateDir, 'data', name));

    log('starting DynamoDB Local and kinesis-mock…');
    const [dynamo, kinesis] = await Promise.all([
      startDynamoDbLocal({
        cacheDir: options.cacheDir ?? resolve('node_modules', '.cache', 'portolan'),
        port: ports.dynamodb,
        dataDir: dataDir('dynamodb'),
        credentials: aws,
      }).then((started) => {
        stops.push(() => started.child.stop());
        return started;
      }),
      startKinesisMock({
        port: ports.kinesis,
        tlsPort: ports.kinesisTls,
        region,
        dataDir: dataDir('kinesis'),
        credentials: aws,
      }).then((started) => {
        stops.push(() => started.child.stop());
        return started;
      }),
    ]);
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: aws });
    const kinesisClient = createKinesisClient({ endpoint: kinesis.endpoint, region, credentials: aws });
    await Promise.all([createTables(dynamoClient), createStreams(kinesisClient)]);
    dynamoClient.destroy();
    kinesisClient.destroy();

    const certificates = await ensureDevCertificates(stateDir);
    const secrets = ensureIssuerSecrets(join(stateDir, 'issuer-secrets.json'));
    const issuer = await startOidcIssuer({ port: ports.issuer, audience, secrets, tls: certificates });
    stops.push(issuer.stop);

    // The handlers read the same environment variables as in Lambda; only endpoints differ.
    Object.assign(process.env, {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
      CATALOG_TABLE: localTableNames.catalog,
      AUDIT_TABLE: localTableNames.audit,
      OUTPUT_STREAM: localStreamNames.output,
      TRUSTED_ISSUERS: JSON.stringify([
        { type: 'oidc', issuer: issuer.issuer, audience: [audience], jwksUri: issuer.jwksUri },
      ]),
      JWKS_CA_FILE: certificates.caFile,
      POWERTOOLS_SERVICE_NAME: 'portolan',
      POWERTOOLS_METRICS_NAMESPACE: 'Portolan',
      POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      CACHE_TTL_SECONDS: env.PORTOLAN_CACHE_TTL_SECONDS ?? '60',
      INPUT_FORMAT: env.PORTOLAN_INPUT_FORMAT ?? 'auto',
      // Stand-ins for the digest bucket and the KMS signing key (see shared/audit/digest-env.ts).
      DIGEST_LOCAL_DIR: join(stateDir, 'audit-digests'),
      DIGEST_LOCAL_KEY_FILE: join(stateDir, 'audit-digest-key.pem'),
    });
    // Built from the factories, not the modules' `handler` exports, so that each
    // stack in one process (tests) gets handlers bound to its own environment.
    const [authorizerModule, apiModule, { tokenVerifierFromEnv }, { Logger }] = await Promise.all([
      import('#functions/authorizer/handler'),
      import('#functions/api/handler'),
      import('#shared/auth/token-verifier'),
      import('@aws-lambda-powertools/logger'),
    ]);
    const authorizer = authorizerModule.makeAuthorizerHandler({
      verifier: tokenVerifierFromEnv(),
      logger: new Logger(),
    });
    const handler = apiModule.makeApiHandler(apiModule.apiDepsFromEnv());
    const gateway = await startLocalGateway({
      port: ports.api,
      authorizer: authorizer as never,
      handler: handler as never,
      authorizerCacheSeconds: Number(env.PORTOLAN_AUTHORIZER_CACHE_SECONDS ?? 300),
    });
    stops.push(gateway.stop);

    // The enrich function, fed by a local event source mapping on the input stream.
    const enrichModule = await import('#functions/enrich/handler');
    const poller = startKinesisPoller({
      client: createKinesisClient({ endpoint: kinesis.endpoint, region, credentials: aws }),
      streamName: localStreamNames.input,
      region,
      handler: enrichModule.makeEnrichHandler(enrichModule.enrichDepsFromEnv()) as never,
      batchSize: Number(env.PORTOLAN_BATCH_SIZE ?? 10_000),
      ...(options.inMemory ? {} : { checkpointFile: join(stateDir, 'data', 'kinesis-checkpoints.json') }),
      failedBatchesFile: join(stateDir, 'failed-batches.jsonl'),
      log,
    });
    stops.push(poller.stop);

    // The digest function, on a schedule as EventBridge runs it in AWS.
    const digestModule = await import('#functions/digest/handler');
    const digests = startDigestSchedule({
      intervalMs: Number(env.PORTOLAN_DIGEST_INTERVAL_SECONDS ?? 60) * 1000,
      run: digestModule.makeDigestHandler(digestModule.digestDepsFromEnv(), new Logger()),
      log,
    });
    stops.push(digests.stop);

    const state: LocalStackState = {
      apiUrl: gateway.url,
      issuer: issuer.issuer,
      tokenUrl: issuer.tokenUrl,
      clients: secrets.clients,
      region,
      kinesis: {
        endpoint: kinesis.endpoint,
        inputStream: localStreamNames.input,
        outputStream: localStreamNames.output,
      },
      dynamodb: { endpoint: dynamo.endpoint, tables: { ...localTableNames } },
      caFile: certificates.caFile,
      audience,
      aws,
    };
    const stateFile = join(stateDir, 'local.json');
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

    if (options.seed ?? true) {
      const admin = secrets.clients.admin;
      const token = await requestAccessToken({
        tokenUrl: issuer.tokenUrl,
        ...admin,
        scope: admin.scopes.join(' '),
        ca: certificates.caPem,
      });
      const created = await (await import('#infra/local/demo-catalog')).seedDemoCatalog(gateway.url, token);
      log(created ? `seeded ${created} demo entities` : 'demo catalog already present');
    }
    const childPids = [dynamo.child.process.pid, kinesis.child.process.pid].filter(
      (pid) => pid !== undefined,
    );
    return { state, stateFile, childPids, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
