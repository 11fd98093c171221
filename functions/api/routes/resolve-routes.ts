/**
 * `/v1/resolve`: the ownership context enrichment would attach for the given
 * attributes, and which rule matched — the same resolver the enricher runs.
 * `/v1/unowned`: telemetry sources seen with no owner.
 */
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { pageRequest } from '#functions/api/request-parsing';
import { jsonResponse } from '#shared/http/json-response';
import { problems } from '#shared/http/problem';
import type { SourceAttributes } from '#shared/ownership/ownership-context';

const paging = new Set(['limit', 'cursor']);

export const resolveRoutes = ({ ownership, access }: ApiDeps): ApiRoute[] => [
  {
    method: 'GET',
    path: '/v1/resolve',
    handler: async (event, { principal }) => {
      const attributes: SourceAttributes = { ...event.queryStringParameters } as SourceAttributes;
      if (Object.keys(attributes).length === 0) {
        throw problems.badRequest(
          'give the telemetry attributes to resolve, e.g. ?service.name=checkout&k8s.namespace.name=payments',
        );
      }
      await access.require(principal, 'catalog:Resolve', '*');
      const result = await ownership.resolve(attributes);
      return jsonResponse(200, result);
    },
  },
  {
    method: 'GET',
    path: '/v1/unowned',
    handler: async (event, { principal }) => {
      const unknown = Object.keys(event.queryStringParameters ?? {}).filter((k) => !paging.has(k));
      if (unknown.length)
        throw problems.badRequest(`unknown query parameter(s): ${unknown.join(', ')}; use limit and cursor`);
      await access.require(principal, 'catalog:ListUnowned', '*');
      return jsonResponse(200, await ownership.unowned(pageRequest(event)));
    },
  },
];
