/** What the API's routes are built from: created once per container, or by a test. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AccessControl } from '#functions/api/access-control';
import type { DigestStore } from '#shared/audit/digest-archive';
import type { ApiContext, ApiEvent } from '#shared/http/require-principal';
import type { ObservedSource } from '#shared/ownership/observed-sources';
import type { OwnershipResult, SourceAttributes } from '#shared/ownership/ownership-context';
import type { SelectorSnapshot } from '#shared/ownership/selector-snapshot';
import type { UnownedSource } from '#shared/ownership/unowned-sources';
import type { CatalogStore } from '#shared/store/catalog-store';

/** The enricher's resolver and unowned-source list, as the API exposes them. */
export interface OwnershipQueries {
  resolve(attributes: SourceAttributes): Promise<OwnershipResult>;
  unowned(page: { limit: number; cursor?: string }): Promise<{ items: UnownedSource[]; nextCursor?: string }>;
  /** The sources the enricher has seen owned through a selector, which a claim must not take. */
  observed(): Promise<readonly ObservedSource[]>;
}

export interface ApiDeps {
  store: CatalogStore;
  /** Every service's selectors, shared by resolve and the selector-claim check (selector-snapshot.ts). */
  services: SelectorSnapshot;
  ownership: OwnershipQueries;
  access: AccessControl;
  logger: Logger;
  /** EMF metrics: catalog changes and refusals, per kind. */
  metrics: Metrics;
  /** The signed audit digests, where the deployment keeps them. */
  digests?: DigestStore;
  /** How many of the newest digests `/v1/audit/verify` checks an entity against. */
  digestWindow?: number;
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
