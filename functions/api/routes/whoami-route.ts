/**
 * `/v1/whoami`: the caller as the API sees it — for a person, their groups and
 * the teams those make them a member of — and what it may do. Needs no permission.
 */
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { jsonResponse } from '#shared/http/json-response';

export const whoamiRoute = ({ access }: ApiDeps): ApiRoute => ({
  method: 'GET',
  path: '/v1/whoami',
  handler: async (_event, { principal }) => {
    const { issuer, subject, clientId, scopes, claims } = principal;
    const [{ groups = [], teams = [] }, permissions] = await Promise.all([
      access.identify(principal),
      access.permissions(principal),
    ]);
    return jsonResponse(200, {
      principal: { issuer, subject, clientId, scopes, groups, teams, claims },
      permissions,
    });
  },
});
