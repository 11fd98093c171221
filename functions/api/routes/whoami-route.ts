/** `/v1/whoami`: the caller as the API sees it, and what it may do. Needs no permission. */
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { jsonResponse } from '#shared/http/json-response';

export const whoamiRoute = ({ access }: ApiDeps): ApiRoute => ({
  method: 'GET',
  path: '/v1/whoami',
  handler: async (_event, { principal }) => {
    const { issuer, subject, clientId, scopes, claims } = principal;
    return jsonResponse(200, {
      principal: { issuer, subject, clientId, scopes, claims },
      permissions: await access.permissions(principal),
    });
  },
});
