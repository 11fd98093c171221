/**
 * The whole of Portolan on one machine, from real components: DynamoDB Local,
 * kinesis-mock, an OIDC issuer, and a gateway running the Lambda handlers.
 * `npm start` and the test harness both start it through `startLocalStack`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { writeFileAtomic } from '#infra/local/atomic-file';
import { ensureDevCertificates } from '#infra/local/dev-ca';
import { startDigestSchedule } from '#infra/local/digest-schedule';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { recordEmulators, replaceLeftoverEmulators } from '#infra/local/emulator-pids';
import { type KinesisMock, setStateAside, startKinesisMock } from '#infra/local/kinesis-mock';
import { type KinesisPoller, startKinesisPoller } from '#infra/local/kinesis-poller';
import { startLocalGateway } from '#infra/local/local-gateway';
import type { LocalStackState } from '#infra/local/local-state';
import { ensureIssuerSecrets, startOidcIssuer } from '#infra/local/oidc-issuer';
import { peopleClientId } from '#infra/local/people-login';
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
  /** Keep the streams' state aside and start them empty (their state grew too large). */
  resetStreams?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunningLocalStack {
  state: LocalStackState;
  stateFile: string;
  /** The emulators' process ids (DynamoDB Local, kinesis-mock). */
  childPids: number[];
  /** The ports it listens on, all on 127.0.0.1 unless PORTOLAN_BIND_HOST says otherwise. */
  ports: Record<keyof typeof portVariables, number>;
  /**
   * Stops it without losing anything acknowledged: the API first, then the poller (its
   * batch in flight finishes or is abandoned, never checkpointed past), then kinesis-mock
   * (ports closed, state written once more), the last checkpoints, DynamoDB Local, the issuer.
   */
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

/** What is running, stopped in this order whatever was started (see RunningLocalStack.stop). */
interface StackParts {
  gateway?: { stop(): Promise<void> };
  digests?: { stop(): Promise<void> };
  poller?: KinesisPoller;
  kinesis?: KinesisMock;
  dynamo?: { stop(): Promise<void> };
  issuer?: { stop(): Promise<void> };
}

type LocalCredentials = { accessKeyId: string; secretAccessKey: string };

/** Stops what `parts` holds, in order, timing each step; a second call finds nothing left to stop. */
function stopper(
  parts: StackParts,
  stateDir: string,
  options: LocalStackOptions,
  log: (line: string) => void,
) {
  return async () => {
    const started = Date.now();
    const steps: string[] = [];
    const timed = async <T>(name: string, step: () => Promise<T>, fallback: T): Promise<T> => {
      const at = Date.now();
      const result = await step().catch(() => fallback);
      steps.push(`${name} ${((Date.now() - at) / 1000).toFixed(1)}s`);
      return result;
    };
    const { gateway, digests, poller, kinesis, dynamo, issuer } = parts;
    for (const key of Object.keys(parts)) delete parts[key as keyof typeof parts];
    if (gateway) await timed('API', () => gateway.stop(), undefined);
    if (digests) await timed('audit digests', () => digests.stop(), undefined);
    if (poller) await timed('poller', () => poller.stop(), undefined);
    const persisted = kinesis ? await timed('kinesis-mock', () => kinesis.stop(), false) : true;
    poller?.commit();
    if (dynamo) await timed('DynamoDB Local', () => dynamo.stop(), undefined);
    if (issuer) await timed('issuer', () => issuer.stop(), undefined);
    if (steps.length === 0) return;
    rmSync(join(stateDir, 'emulators.json'), { force: true });
    log(
      `stopped in ${((Date.now() - started) / 1000).toFixed(1)}s (${steps.join(', ')})${
        options.inMemory || persisted ? '' : "; kinesis-mock's last state write did not happen"
      }`,
    );
  };
}

async function claimPorts(env: NodeJS.ProcessEnv) {
  return {
    api: await claimPort(portVariables.api, env),
    issuer: await claimPort(portVariables.issuer, env),
    dynamodb: await claimPort(portVariables.dynamodb, env),
    kinesis: await claimPort(portVariables.kinesis, env),
    kinesisTls: await claimPort(portVariables.kinesisTls, env),
  };
}

/** Fresh credentials for each start: the emulators accept any, so none are worth keeping. */
const localCredentials = (): LocalCredentials => ({
  accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(24).toString('base64url'),
});

interface EmulatorSettings {
  options: LocalStackOptions;
  env: NodeJS.ProcessEnv;
  ports: Awaited<ReturnType<typeof claimPorts>>;
  bindHost: string;
  aws: LocalCredentials;
  stateDir: string;
  dataDir: (name: string) => string | undefined;
  log: (line: string) => void;
}

/** DynamoDB Local and kinesis-mock, side by side, recorded (for a crash) and provisioned. */
async function startEmulators(
  { options, env, ports, bindHost, aws, stateDir, dataDir, log }: EmulatorSettings,
  parts: StackParts,
) {
  log('starting DynamoDB Local and kinesis-mock…');
  const [dynamo, kinesis] = await Promise.all([
    startDynamoDbLocal({
      cacheDir: options.cacheDir ?? resolve('node_modules', '.cache', 'portolan'),
      port: ports.dynamodb,
      dataDir: dataDir('dynamodb'),
      credentials: aws,
      bindHost,
    }).then((started) => {
      parts.dynamo = started.child;
      return started;
    }),
    startKinesisMock({
      port: ports.kinesis,
      tlsPort: ports.kinesisTls,
      region,
      dataDir: dataDir('kinesis'),
      credentials: aws,
      bindHost,
      ...(env.PORTOLAN_KINESIS_STATE_WARN_MB
        ? { stateWarnBytes: Number(env.PORTOLAN_KINESIS_STATE_WARN_MB) * 1024 * 1024 }
        : {}),
      log,
    }).then((started) => {
      parts.kinesis = started;
      return started;
    }),
  ]);
  recordEmulators(stateDir, [dynamo.child.process.pid, kinesis.child.process.pid]);
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: aws });
  const kinesisClient = createKinesisClient({ endpoint: kinesis.endpoint, region, credentials: aws });
  await Promise.all([createTables(dynamoClient), createStreams(kinesisClient)]);
  dynamoClient.destroy();
  kinesisClient.destroy();
  return { dynamo, kinesis };
}

/**
 * The API behind the local gateway, from the handlers' factories rather than the
 * modules' `handler` exports, so that each stack in one process (tests) gets
 * handlers bound to its own environment.
 */
async function startApi(env: NodeJS.ProcessEnv, port: number) {
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
  return startLocalGateway({
    port,
    authorizer: authorizer as never,
    handler: handler as never,
    authorizerCacheSeconds: Number(env.PORTOLAN_AUTHORIZER_CACHE_SECONDS ?? 300),
  });
}

/** The enrich function, fed by a local event source mapping on the input stream. */
async function startEnricher(
  { options, env, aws, log }: Pick<EmulatorSettings, 'options' | 'env' | 'aws' | 'log'>,
  kinesis: KinesisMock,
  files: { checkpointFile: string; failedBatchesFile: string },
) {
  const enrichModule = await import('#functions/enrich/handler');
  return startKinesisPoller({
    client: createKinesisClient({ endpoint: kinesis.endpoint, region, credentials: aws }),
    streamName: localStreamNames.input,
    region,
    handler: enrichModule.makeEnrichHandler(enrichModule.enrichDepsFromEnv()) as never,
    batchSize: Number(env.PORTOLAN_BATCH_SIZE ?? 10_000),
    // As the deployed event source mapping (infra/constructs/ingest-pipeline.ts).
    bisectBatchOnError: true,
    ...(options.inMemory ? {} : { checkpointFile: files.checkpointFile }),
    durableBefore: kinesis.persistedBefore,
    failedBatchesFile: files.failedBatchesFile,
    log,
  });
}

/** The digest function, on a schedule as EventBridge runs it in AWS. */
async function startDigests(env: NodeJS.ProcessEnv, log: (line: string) => void) {
  const [digestModule, { Logger }] = await Promise.all([
    import('#functions/digest/handler'),
    import('@aws-lambda-powertools/logger'),
  ]);
  return startDigestSchedule({
    intervalMs: Number(env.PORTOLAN_DIGEST_INTERVAL_SECONDS ?? 60) * 1000,
    run: digestModule.makeDigestHandler(digestModule.digestDepsFromEnv(), new Logger()),
    log,
  });
}

/** The demo catalog, written through the API as its admin client. */
async function seedDemo(
  issuer: { tokenUrl: string },
  admin: { clientId: string; clientSecret: string; scopes: string[] },
  apiUrl: string,
  caPem: string,
  log: (line: string) => void,
) {
  const token = await requestAccessToken({
    tokenUrl: issuer.tokenUrl,
    ...admin,
    scope: admin.scopes.join(' '),
    ca: caPem,
  });
  const created = await (await import('#infra/local/demo-catalog')).seedDemoCatalog(apiUrl, token);
  log(created ? `seeded ${created} demo entities` : 'demo catalog already present');
}

export async function startLocalStack(options: LocalStackOptions): Promise<RunningLocalStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const parts: StackParts = {};
  const stop = stopper(parts, stateDir, options, log);

  try {
    await replaceLeftoverEmulators(stateDir, log);
    const ports = await claimPorts(env);
    // Loopback unless someone means otherwise: the emulators have no authentication.
    const bindHost = env.PORTOLAN_BIND_HOST || '127.0.0.1';
    const aws = localCredentials();
    const dataDir = (name: string) => (options.inMemory ? undefined : join(stateDir, 'data', name));
    const checkpointFile = join(stateDir, 'data', 'kinesis-checkpoints.json');
    if (options.resetStreams && !options.inMemory) {
      setStateAside(dataDir('kinesis') as string, log);
      rmSync(checkpointFile, { force: true });
    }

    const settings = { options, env, ports, bindHost, aws, stateDir, dataDir, log };
    const { dynamo, kinesis } = await startEmulators(settings, parts);

    const certificates = await ensureDevCertificates(stateDir);
    const secrets = ensureIssuerSecrets(join(stateDir, 'issuer-secrets.json'));
    const issuer = await startOidcIssuer({ port: ports.issuer, audience, secrets, tls: certificates });
    parts.issuer = issuer;

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
        // More issuers to trust, shaped like the stack's oidcIssuers setting (e.g. CI stand-ins).
        ...(JSON.parse(env.PORTOLAN_OIDC_ISSUERS ?? '[]') as object[]).map((i) => ({ type: 'oidc', ...i })),
      ]),
      JWKS_CA_FILE: certificates.caFile,
      ADMIN_GROUPS: env.PORTOLAN_ADMIN_GROUPS ?? '["local:portolan-admins"]',
      TEAM_MEMBERS_POLICY: env.PORTOLAN_TEAM_MEMBERS_POLICY ?? 'on',
      POWERTOOLS_SERVICE_NAME: 'portolan',
      POWERTOOLS_METRICS_NAMESPACE: 'Portolan',
      POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      CACHE_TTL_SECONDS: env.PORTOLAN_CACHE_TTL_SECONDS ?? '60',
      INPUT_FORMAT: env.PORTOLAN_INPUT_FORMAT ?? 'auto',
      UNVOUCHED_RECORDS: env.PORTOLAN_UNVOUCHED_RECORDS ?? 'passthrough',
      OWNERSHIP_ATTRIBUTES: env.PORTOLAN_OWNERSHIP_ATTRIBUTES ?? 'full',
      QUARANTINE_STREAM: localStreamNames.quarantine,
      // Stand-ins for the digest bucket and the KMS signing key (see shared/audit/digest-env.ts).
      DIGEST_LOCAL_DIR: join(stateDir, 'audit-digests'),
      DIGEST_LOCAL_KEY_FILE: join(stateDir, 'audit-digest-key.pem'),
    });
    const gateway = await startApi(env, ports.api);
    parts.gateway = gateway;
    const failedBatchesFile = join(stateDir, 'failed-batches.jsonl');
    parts.poller = await startEnricher(settings, kinesis, { checkpointFile, failedBatchesFile });
    parts.digests = await startDigests(env, log);

    const state: LocalStackState = {
      apiUrl: gateway.url,
      issuer: issuer.issuer,
      tokenUrl: issuer.tokenUrl,
      clients: secrets.clients,
      peopleClientId,
      users: secrets.users,
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
    writeFileAtomic(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

    if (options.seed ?? true)
      await seedDemo(issuer, secrets.clients.admin, gateway.url, certificates.caPem, log);
    const childPids = [dynamo.child.process.pid, kinesis.child.process.pid].filter(
      (pid) => pid !== undefined,
    );
    return { state, stateFile, childPids, ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
