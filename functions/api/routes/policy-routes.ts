/** `/v1/policies`: the IAM-like access policies, versioned and audited like catalog entities. */
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { writeAuthorized } from '#functions/api/authorized-write';
import {
  bodyObject,
  etag,
  pageRequest,
  pathId,
  versionPrecondition,
  withPathId,
} from '#functions/api/request-parsing';
import { policySchema } from '#shared/auth/policy-schema';
import { toAuditActor } from '#shared/auth/principal-claims';
import { slugId } from '#shared/catalog/entity-schemas';
import { jsonResponse } from '#shared/http/json-response';
import { problems } from '#shared/http/problem';
import { validationProblem } from '#shared/http/validation-problem';
import { representation } from '#shared/store/dynamodb-catalog-store';

export const policyRoutes = ({ store, access }: ApiDeps): ApiRoute[] => [
  {
    method: 'GET',
    path: '/v1/policies',
    handler: async (event, { principal }) => {
      await access.require(principal, 'policy:ListPolicies', 'policy/*');
      const page = await store.list('policy', pageRequest(event));
      return jsonResponse(200, { items: page.items.map(representation), nextCursor: page.nextCursor });
    },
  },
  {
    method: 'GET',
    path: '/v1/policies/{proxy+}',
    handler: async (event, { principal }) => {
      const id = pathId(event, slugId, 'policy');
      await access.require(principal, 'policy:GetPolicy', `policy/${id}`);
      const policy = await store.get('policy', id);
      if (!policy) throw problems.notFound(`policy/${id} does not exist`);
      return jsonResponse(200, representation(policy), { etag: etag(policy.version) });
    },
  },
  {
    method: 'PUT',
    path: '/v1/policies/{proxy+}',
    jsonBody: true,
    handler: async (event, { principal, awsRequestId }) => {
      const id = pathId(event, slugId, 'policy');
      const expected = versionPrecondition(event);
      const body = bodyObject(event);
      const parsed = policySchema.safeParse(withPathId(body, id));
      if (!parsed.success) throw validationProblem(parsed.error, 'policy');
      const result = await writeAuthorized({
        ref: `policy/${id}`,
        expected,
        read: () => store.get('policy', id),
        authorize: () => access.require(principal, 'policy:PutPolicy', `policy/${id}`),
        write: (precondition) =>
          store.put('policy', parsed.data, precondition, {
            actor: toAuditActor(principal),
            requestId: awsRequestId,
          }),
      });
      access.invalidate();
      return jsonResponse(result.created ? 201 : 200, representation(result.entity), {
        etag: etag(result.entity.version),
      });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/policies/{proxy+}',
    handler: async (event, { principal, awsRequestId }) => {
      const id = pathId(event, slugId, 'policy');
      const expected = versionPrecondition(event);
      await writeAuthorized({
        ref: `policy/${id}`,
        expected,
        read: () => store.get('policy', id),
        authorize: () => access.require(principal, 'policy:DeletePolicy', `policy/${id}`),
        write: (precondition) =>
          store.delete('policy', id, precondition, {
            actor: toAuditActor(principal),
            requestId: awsRequestId,
          }),
      });
      access.invalidate();
      return { statusCode: 204 };
    },
  },
];
