/**
 * The catalog API: one Lambda behind every `/v1/*` route. The middy stack reads
 * as the request's life — Lambda context for the logger, body size, the caller
 * (from the authorizer), the route (JSON body parsed where it takes one) — with
 * the problem+json error handler added last so it sees every error.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeAccessControl } from '#functions/api/access-control';
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { applyRoute } from '#functions/api/routes/apply-route';
import { auditRoutes } from '#functions/api/routes/audit-routes';
import { entityRoutes } from '#functions/api/routes/entity-routes';
import { policyRoutes } from '#functions/api/routes/policy-routes';
import { resolveRoutes } from '#functions/api/routes/resolve-routes';
import { whoamiRoute } from '#functions/api/routes/whoami-route';
import { digestStoreFromEnv } from '#shared/audit/digest-env';
import { authorizationSettingsFromEnv } from '#shared/auth/authorization-settings';
import { makeTeamMembership } from '#shared/auth/team-membership';
import { optionalWholeNumberFromEnv } from '#shared/config/env-numbers';
import { requiredEnv } from '#shared/config/required-env';
import { bodySizeLimit } from '#shared/http/body-size-limit';
import { DependencyUnavailable } from '#shared/http/dependency-outage';
import { problemJsonErrors } from '#shared/http/problem-json-errors';
import { type ApiContext, type ApiEvent, requirePrincipal } from '#shared/http/require-principal';
import { CatalogCache } from '#shared/ownership/catalog-cache';
import { resolveOwnership } from '#shared/ownership/resolve-ownership';
import { listUnownedSources } from '#shared/ownership/unowned-sources';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { makeTeamDirectory } from '#shared/store/team-groups';

type Result = APIGatewayProxyStructuredResultV2;

const withBodyParser = (route: ApiRoute) =>
  route.jsonBody
    ? middy<ApiEvent, Result, Error, ApiContext>(route.handler).use(httpJsonBodyParser())
    : route.handler;

/**
 * API Gateway sends every request to this function (`$default` route, or a
 * catch-all `{proxy+}` whose parameter is the whole tail); the router derives
 * each route's own parameters, and would otherwise keep the gateway's.
 */
const routeParametersFromPath: middy.MiddlewareObj<ApiEvent> = {
  before: ({ event }) => {
    delete event.pathParameters;
  },
};

export function makeApiHandler(deps: ApiDeps) {
  const routes: ApiRoute[] = [
    ...entityRoutes(deps),
    ...auditRoutes(deps),
    ...policyRoutes(deps),
    ...resolveRoutes(deps),
    whoamiRoute(deps),
    applyRoute(deps),
  ];
  const router = httpRouterHandler<ApiEvent, Result>(
    routes.map((route) => ({
      method: route.method,
      path: route.path,
      handler: withBodyParser(route) as never,
    })),
  );
  return middy<ApiEvent, Result, Error, ApiContext>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .use(bodySizeLimit())
    .use(requirePrincipal())
    .use(routeParametersFromPath)
    .use(problemJsonErrors(deps.logger, deps.metrics))
    .handler(router as never);
}

/** Dependencies from the function's environment; no network until the first request. */
export function apiDepsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  client = createDocumentClient(),
): ApiDeps {
  const catalogTable = requiredEnv('CATALOG_TABLE', env);
  const store = makeDynamoCatalogStore({ client, catalogTable, auditTable: requiredEnv('AUDIT_TABLE', env) });
  const logger = new Logger();
  return {
    store,
    ownership: {
      async resolve(attributes) {
        // The API answers from the catalog as it is now: a cache with no lifetime.
        const catalog = new CatalogCache({ client, table: catalogTable, ttlMs: 0 });
        await catalog.prefetch([attributes]);
        // The cache answers "unresolved" when it cannot read; asked directly, the API owes a 503.
        if (catalog.stats.failures > 0)
          throw new DependencyUnavailable('DynamoDB', 'the catalog could not be read to resolve ownership');
        return resolveOwnership(attributes, catalog.snapshot());
      },
      unowned: (page) => listUnownedSources(client, catalogTable, page),
    },
    access: makeAccessControl(store, undefined, undefined, {
      membership: makeTeamMembership(makeTeamDirectory(client, catalogTable)),
      settings: authorizationSettingsFromEnv(env),
    }),
    logger,
    // Metrics warnings (e.g. a GET that records no metric) go through the logger and its level.
    metrics: new Metrics({ logger }),
    ...auditDigestsFromEnv(env),
  };
}

export const handler = makeApiHandler(apiDepsFromEnv());

/** The digest archive `/v1/audit/verify` and `/v1/audit/digests` read, when there is one. */
function auditDigestsFromEnv(env: NodeJS.ProcessEnv): Pick<ApiDeps, 'digests' | 'digestWindow'> {
  const digests = digestStoreFromEnv(env);
  const window = optionalWholeNumberFromEnv(env, 'AUDIT_VERIFY_DIGESTS', { min: 1, meaning: 'digests' });
  return {
    ...(digests ? { digests } : {}),
    ...(window !== undefined ? { digestWindow: window } : {}),
  };
}
