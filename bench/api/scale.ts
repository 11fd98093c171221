/**
 * The API at catalog scale: 10,000 services, 1,000 teams and 2,000
 * repositories written through the store (audited, as the API writes them),
 * then every route measured through the local gateway (real tokens, real
 * HTTP), and the enricher's cold catalog load. DynamoDB requests per request
 * are counted on an identical handler in this process, over the same tables.
 *
 *   npm run bench:api-scale [-- --services 10000 --duration 10 --connections 10]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaContext } from '#infra/local/lambda-context';
import { kinds } from '#shared/catalog/entity-kinds';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient, createDynamoDbClient } from '#shared/store/dynamodb-client';
import { adminHeaders } from '../support/admin-headers.ts';
import { startStackProcess } from '../support/stack-process.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
  },
});
const serviceCount = Number(values.services);
const teamCount = Math.max(1, serviceCount / 10);
const repositoryCount = Math.max(1, serviceCount / 5);
const duration = Number(values.duration);
const connections = Number(values.connections);
const applySize = 500;

const teamId = (i: number) => `team-${i % teamCount}`;
const repositoryId = (i: number) => `github.com/acme/repo-${i % repositoryCount}`;
/** Every service owns a deployment by exact name; one in 10 a function-name prefix, one in 50 a glob. */
const selectorsOf = (id: string, i: number) => [
  { attribute: 'k8s.deployment.name', match: 'exact', value: `deploy-${id}` },
  ...(i % 10 === 0 ? [{ attribute: 'faas.name', match: 'prefix', value: `fn-${id}-` }] : []),
  ...(i % 50 === 0
    ? [{ attribute: 'cloud.resource_id', match: 'glob', value: `arn:aws:lambda:*:${id}-*` }]
    : []),
];
const serviceDoc = (id: string, i: number) => ({
  id,
  team: teamId(i),
  repository: repositoryId(i),
  tier: `tier-${i % 4}`,
  description: `Service ${id}`,
  selectors: selectorsOf(id, i),
});
const pick = (n: number) => Math.floor(Math.random() * n);

interface Row {
  route: string;
  grows: string;
  requests: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  dynamoRequests: string;
}

async function inBatches<T>(items: T[], width: number, each: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await each(items[next++] as T);
    }),
  );
}

const { state, stop } = await startStackProcess({ POWERTOOLS_LOG_LEVEL: 'ERROR' });
try {
  const client = createDocumentClient(
    createDynamoDbClient({ endpoint: state.dynamodb.endpoint, region: state.region, credentials: state.aws }),
  );
  let dynamoRequests = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      dynamoRequests++;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const tables = state.dynamodb.tables;
  // Seeding is not what is measured: a patient client, so that a busy machine slows it rather than fails it.
  const seeder = createDocumentClient(
    createDynamoDbClient({
      endpoint: state.dynamodb.endpoint,
      region: state.region,
      credentials: state.aws,
      requestHandler: { requestTimeout: 30_000 },
      maxAttempts: 10,
    }),
  );
  const store = makeDynamoCatalogStore({
    client: seeder,
    catalogTable: tables.catalog,
    auditTable: tables.audit,
  });

  // Seed through the store, each write audited, with the schema's defaults as the API applies them.
  const ctx = { actor: { iss: 'bench', sub: 'seed' }, requestId: 'seed' };
  const seedStarted = performance.now();
  const put = (kind: 'team' | 'repository' | 'service', doc: Record<string, unknown>) =>
    store.put(kind, kinds[kind].schema.parse(doc) as never, 'absent', ctx);
  await inBatches([...Array(teamCount).keys()], 16, (i) => put('team', { id: teamId(i), name: `Team ${i}` }));
  await inBatches([...Array(repositoryCount).keys()], 16, (i) =>
    put('repository', { id: repositoryId(i), team: teamId(i) }),
  );
  await inBatches([...Array(serviceCount).keys()], 16, (i) => put('service', serviceDoc(`svc-${i}`, i)));
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const headers = await adminHeaders(state);

  // The same handler in this process, over the same tables, to count DynamoDB requests per request.
  // The module builds its own handler from the environment when loaded: give it this stack's tables.
  Object.assign(process.env, {
    CATALOG_TABLE: tables.catalog,
    AUDIT_TABLE: tables.audit,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'CRITICAL',
  });
  const { apiDepsFromEnv, makeApiHandler } = await import('#functions/api/handler');
  const deps = apiDepsFromEnv(process.env, client);
  const handler = makeApiHandler(deps);
  const principal = {
    issuer: 'bench',
    subject: 'admin',
    scopes: ['portolan/admin'],
    claims: { sub: 'admin' },
  };
  async function counted(method: string, path: string, query: Record<string, string> = {}, body?: unknown) {
    const before = dynamoRequests;
    const started = performance.now();
    const response = (await handler(
      {
        version: '2.0',
        routeKey: '$default',
        rawPath: path,
        rawQueryString: new URLSearchParams(query).toString(),
        queryStringParameters: Object.keys(query).length ? query : undefined,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        isBase64Encoded: false,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        requestContext: {
          http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
          requestId: randomUUID(),
          routeKey: '$default',
          stage: '$default',
          authorizer: { lambda: { principal: JSON.stringify(principal) } },
        },
      } as never,
      lambdaContext('api') as never,
    )) as APIGatewayProxyStructuredResultV2;
    if ((response.statusCode ?? 500) >= 300)
      throw new Error(`${method} ${path}: ${response.statusCode} ${response.body}`);
    return { requests: dynamoRequests - before, ms: performance.now() - started, body: response.body };
  }
  /** Requests of the first call (cold: snapshot loaded) and of a second one (warm). */
  async function coldWarm(
    method: string,
    path: () => string,
    query: () => Record<string, string> = () => ({}),
  ) {
    const cold = await counted(method, path(), query());
    const warm = await counted(method, path(), query());
    return cold.requests === warm.requests
      ? `${warm.requests}`
      : `${warm.requests} (first in container: ${cold.requests})`;
  }

  async function measure(
    route: string,
    grows: string,
    counts: string,
    request: () => { method: 'GET' | 'PUT'; path: string; body?: string },
  ): Promise<Row> {
    const result = await autocannon({
      url: state.apiUrl,
      connections,
      duration,
      headers,
      requests: [
        { setupRequest: (req: autocannon.Request) => ({ ...req, ...request() }) } as autocannon.Request,
      ],
    });
    return {
      route,
      grows,
      requests: result.requests.total,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      non2xx: result.non2xx,
      dynamoRequests: counts,
    };
  }

  const page50 = await (async () => {
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const response = await fetch(
        `${state.apiUrl}/v1/services?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers },
      );
      cursor = ((await response.json()) as { nextCursor?: string }).nextCursor;
    }
    return cursor as string;
  })();

  const rows: Row[] = [];
  // Each row as it is measured, so a later failure does not lose the earlier ones.
  const record = (row: Row) => {
    rows.push(row);
    console.error(JSON.stringify(row));
  };
  record(
    await measure(
      'GET /v1/services?limit=100 (first page)',
      'O(page)',
      await coldWarm(
        'GET',
        () => '/v1/services',
        () => ({ limit: '100' }),
      ),
      () => ({ method: 'GET', path: '/v1/services?limit=100' }),
    ),
  );
  record(
    await measure(
      'GET /v1/services?limit=100 (page 51)',
      'O(page)',
      await coldWarm(
        'GET',
        () => '/v1/services',
        () => ({ limit: '100', cursor: page50 }),
      ),
      () => ({ method: 'GET', path: `/v1/services?limit=100&cursor=${encodeURIComponent(page50)}` }),
    ),
  );
  record(
    await measure(
      'GET /v1/services/{id}',
      'O(1)',
      await coldWarm('GET', () => `/v1/services/svc-${pick(serviceCount)}`),
      () => ({ method: 'GET', path: `/v1/services/svc-${pick(serviceCount)}` }),
    ),
  );
  const resolveByName = () => ({ 'service.name': `svc-${pick(serviceCount)}` });
  record(
    await measure(
      'GET /v1/resolve (service.name)',
      'O(1); O(services) once per TTL',
      await coldWarm('GET', () => '/v1/resolve', resolveByName),
      () => ({ method: 'GET', path: `/v1/resolve?${new URLSearchParams(resolveByName())}` }),
    ),
  );
  const resolveBySelector = () => ({ 'k8s.deployment.name': `deploy-svc-${pick(serviceCount)}` });
  record(
    await measure(
      'GET /v1/resolve (exact selector)',
      'O(1); O(services) once per TTL',
      await coldWarm('GET', () => '/v1/resolve', resolveBySelector),
      () => ({ method: 'GET', path: `/v1/resolve?${new URLSearchParams(resolveBySelector())}` }),
    ),
  );
  const resolveByPrefix = () => ({ 'faas.name': `fn-svc-${pick(serviceCount / 10) * 10}-handler` });
  record(
    await measure(
      'GET /v1/resolve (prefix selector, CPU O(prefixes))',
      'O(1); O(services) once per TTL',
      await coldWarm('GET', () => '/v1/resolve', resolveByPrefix),
      () => ({ method: 'GET', path: `/v1/resolve?${new URLSearchParams(resolveByPrefix())}` }),
    ),
  );
  let updates = 0;
  record(
    await measure(
      'PUT /v1/services/{id} (no new claim)',
      'O(1)',
      await (async () => {
        const update = async () => {
          const i = pick(serviceCount);
          const doc = { ...serviceDoc(`svc-${i}`, i), description: `update ${updates++}` };
          return (await counted('PUT', `/v1/services/svc-${i}`, {}, doc)).requests;
        };
        return `${await update()}, then ${await update()}`;
      })(),
      () => {
        const i = pick(serviceCount);
        return {
          method: 'PUT',
          path: `/v1/services/svc-${i}`,
          body: JSON.stringify({ ...serviceDoc(`svc-${i}`, i), description: `update ${updates++}` }),
        };
      },
    ),
  );
  let created = 0;
  const newService = (prefix: string) => {
    const id = `${prefix}-${created++}`;
    return { id, doc: serviceDoc(id, created) };
  };
  const claimCount = await (async () => {
    const cold = newService('counted');
    const first = await counted('PUT', `/v1/services/${cold.id}`, {}, cold.doc);
    const warm = newService('counted');
    const second = await counted('PUT', `/v1/services/${warm.id}`, {}, warm.doc);
    return `${second.requests} (first in container: ${first.requests})`;
  })();
  record(
    await measure(
      'PUT /v1/services/{id} (new service: claim check)',
      'O(services): one consistent Query of versions',
      claimCount,
      () => {
        const { id, doc } = newService('claimant');
        return { method: 'PUT', path: `/v1/services/${id}`, body: JSON.stringify(doc) };
      },
    ),
  );

  // Apply: 500 new services, through the gateway (timed), then another 500 in process (counted).
  const applyDocument = (prefix: string) => ({
    apiVersion: 'portolan/v1',
    entities: Array.from({ length: applySize }, (_, i) => ({
      kind: 'service',
      ...serviceDoc(`${prefix}-${i}`, i),
    })),
  });
  const applyOnce = async (body: unknown) => {
    const started = performance.now();
    const response = await fetch(`${state.apiUrl}/v1/apply`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return { ms: performance.now() - started, status: response.status };
  };
  const applied = await applyOnce(applyDocument('applied'));
  const unchanged = await applyOnce(applyDocument('applied'));
  const applyCounted = await counted('POST', '/v1/apply', {}, applyDocument('counted-apply')).then(
    (run) => `${run.requests}`,
    (error: Error) => `failed in process: ${error.message.slice(0, 80)}`,
  );
  const applyRow = (route: string, run: { ms: number; status: number }, counts: string): Row => ({
    route,
    grows: 'O(entities) writes; O(services) claim check once',
    requests: 1,
    p50: run.ms,
    p99: run.ms,
    max: run.ms,
    non2xx: run.status === 200 ? 0 : 1,
    dynamoRequests: counts,
  });
  record(applyRow(`POST /v1/apply (${applySize} new services)`, applied, applyCounted));
  record(applyRow(`POST /v1/apply (the same ${applySize}, unchanged)`, unchanged, 'n/a'));

  // The enricher's cold catalog load: a new container's first batch naming many services.
  const cold = async (names: number) => {
    const cache = new CatalogCache({ client, table: tables.catalog, ttlMs: 60_000 });
    const before = dynamoRequests;
    const started = performance.now();
    await cache.prefetch(
      Array.from({ length: names }, (_, i) => ({ 'service.name': `svc-${(i * 7919) % serviceCount}` })),
    );
    const ms = performance.now() - started;
    return { ms, requests: dynamoRequests - before, failures: cache.stats.failures };
  };
  for (const names of [100, 1_000, serviceCount]) {
    const run = await cold(names);
    record({
      route: `enricher: cold catalog load, batch naming ${names} services`,
      grows: 'O(services) selectors + O(named) BatchGets',
      requests: 1,
      p50: run.ms,
      p99: run.ms,
      max: run.ms,
      non2xx: run.failures,
      dynamoRequests: `${run.requests}`,
    });
  }

  const ms = (x: number) => `${x.toFixed(x < 100 ? 1 : 0)} ms`;
  console.log(
    `\nCatalog: ${serviceCount} services, ${teamCount} teams, ${repositoryCount} repositories (seeded through the store in ${seedSeconds.toFixed(0)} s).`,
  );
  console.log(`Through the local gateway: ${connections} connections, ${duration} s per route, one run.\n`);
  console.log(
    '| route | grows with the catalog | requests | p50 | p99 | max | non-2xx | DynamoDB requests per request |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows)
    console.log(
      `| ${r.route} | ${r.grows} | ${r.requests} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.non2xx} | ${r.dynamoRequests} |`,
    );
  const snapshot = deps.services.stats;
  console.log(
    `\nIn-process snapshot: ${snapshot.loads} loads, ${snapshot.checks} claim checks, ${snapshot.reread} services re-read, ${snapshot.requests} DynamoDB requests.`,
  );
} finally {
  await stop();
}
