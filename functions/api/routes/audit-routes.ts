/** `/v1/audit` (an entity's events, newest first) and `/v1/audit/verify` (recompute its chain). */
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { pageRequest, requiredQuery } from '#functions/api/request-parsing';
import { verifyChain } from '#shared/audit/audit-chain';
import { type EntityRef, kinds } from '#shared/catalog/entity-kinds';
import { slugId } from '#shared/catalog/entity-schemas';
import { jsonResponse } from '#shared/http/json-response';
import { problems } from '#shared/http/problem';
import type { ApiEvent } from '#shared/http/require-principal';

type AuditedRef = EntityRef | `policy/${string}`;

/** `?entity=service/checkout`: a kind the log audits and a valid id of that kind. */
function entityParam(event: ApiEvent): AuditedRef {
  const value = requiredQuery(event, 'entity', 'service/checkout');
  const slash = value.indexOf('/');
  const kind = value.slice(0, slash);
  const id = value.slice(slash + 1);
  const idSchema = kind === 'policy' ? slugId : kinds[kind as keyof typeof kinds]?.idSchema;
  if (slash < 0 || !idSchema) {
    throw problems.badRequest(
      `entity must be <kind>/<id> with kind one of team, service, repository, environment, policy (got "${value}")`,
    );
  }
  if (!idSchema.safeParse(id).success) throw problems.badRequest(`"${id}" is not a valid ${kind} id`);
  return value as AuditedRef;
}

export const auditRoutes = ({ store, access }: ApiDeps): ApiRoute[] => [
  {
    method: 'GET',
    path: '/v1/audit',
    handler: async (event, { principal }) => {
      const entity = entityParam(event);
      await access.require(principal, 'audit:ReadEvents', `audit/${entity}`);
      // A policy's events carry its statements: reading them is reading the policy.
      if (entity.startsWith('policy/')) await access.require(principal, 'policy:GetPolicy', entity);
      const page = await store.auditEvents(entity, pageRequest(event));
      return jsonResponse(200, page);
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/verify',
    handler: async (event, { principal }) => {
      const entity = entityParam(event);
      await access.require(principal, 'audit:VerifyChain', `audit/${entity}`);
      const events = await store.auditChain(entity);
      if (events.length === 0) throw problems.notFound(`${entity} has no audit events`);
      return jsonResponse(200, { entity, ...verifyChain(events) });
    },
  },
];
