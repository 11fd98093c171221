/** What the API's routes are built from: created once per container, or by a test. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AccessControl } from '#functions/api/access-control';
import type { ApiContext, ApiEvent } from '#shared/http/require-principal';
import type { CatalogStore } from '#shared/store/catalog-store';

export interface ApiDeps {
  store: CatalogStore;
  access: AccessControl;
  logger: Logger;
  /** EMF metrics: catalog changes and refusals, per kind. */
  metrics: Metrics;
}

export type RouteHandler = (
  event: ApiEvent,
  context: ApiContext,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiRoute {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  handler: RouteHandler;
  /** Routes that take a JSON body get the body parser. */
  jsonBody?: boolean;
}
