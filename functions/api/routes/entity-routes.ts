/** `/v1/{teams,services,repositories,environments}`: list, and get / put / delete one entity. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
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
import { requireClaims } from '#functions/api/routes/telemetry-claims';
import { toAuditActor } from '#shared/auth/principal-claims';
import { type KindInfo, kinds } from '#shared/catalog/entity-kinds';
import { jsonResponse } from '#shared/http/json-response';
import { problems } from '#shared/http/problem';
import { validationProblem } from '#shared/http/validation-problem';
import { apiMetrics } from '#shared/metrics/metric-names';
import { representation } from '#shared/store/dynamodb-catalog-store';

const listAction = (k: KindInfo) =>
  k.kind === 'repository' ? 'catalog:ListRepositories' : `catalog:List${k.noun}s`;

/** Validates a PUT body for `id`; the body may omit `id`, but may not contradict the path. */
export function parseEntity(info: KindInfo, id: string, body: Record<string, unknown>) {
  const parsed = info.schema.safeParse(withPathId(body, id));
  if (!parsed.success) throw validationProblem(parsed.error, `${info.kind} document`);
  const doc = parsed.data as Record<string, unknown> & { id: string };
  if (info.kind === 'team' && doc.parent === id) throw problems.badRequest('a team cannot be its own parent');
  return doc;
}

function routesFor(info: KindInfo, { store, services, access, metrics, ownership }: ApiDeps): ApiRoute[] {
  const { kind, plural, noun } = info;
  const { idSchema } = info;
  const ref = (id: string) => `${kind}/${id}`;
  return [
    {
      method: 'GET',
      path: `/v1/${plural}`,
      handler: async (event, { principal }) => {
        await access.require(principal, listAction(info), `${kind}/*`);
        const page = await store.list(kind, pageRequest(event));
        return jsonResponse(200, { items: page.items.map(representation), nextCursor: page.nextCursor });
      },
    },
    {
      method: 'GET',
      path: `/v1/${plural}/{proxy+}`,
      handler: async (event, { principal }) => {
        const id = pathId(event, idSchema, kind);
        const entity = await store.get(kind, id);
        await access.require(principal, `catalog:Get${noun}`, ref(id), entity ? [entity.doc] : []);
        if (!entity) throw problems.notFound(`${ref(id)} does not exist`);
        return jsonResponse(200, representation(entity), { etag: etag(entity.version) });
      },
    },
    {
      method: 'PUT',
      path: `/v1/${plural}/{proxy+}`,
      jsonBody: true,
      handler: async (event, { principal, awsRequestId }) => {
        const id = pathId(event, idSchema, kind);
        const expected = versionPrecondition(event);
        const doc = parseEntity(info, id, bodyObject(event));
        const result = await writeAuthorized({
          ref: ref(id),
          expected,
          read: () => store.get(kind, id),
          authorize: async (current) => {
            await access.require(
              principal,
              `catalog:Put${noun}`,
              ref(id),
              current ? [current.doc, doc] : [doc],
            );
            if (kind === 'service')
              await requireClaims(
                services,
                access,
                principal,
                { ...(current ? { current: current.doc } : {}), proposed: doc },
                ownership.observed,
              );
          },
          write: (precondition) =>
            store.put(kind, doc, precondition, { actor: toAuditActor(principal), requestId: awsRequestId }),
        });
        if (result.changed) metrics.addMetric(apiMetrics.catalogChanges, MetricUnit.Count, 1);
        // A team's groups decide who is on it: this container sees the change at once.
        if (result.changed && kind === 'team') access.invalidate();
        return jsonResponse(result.created ? 201 : 200, representation(result.entity), {
          etag: etag(result.entity.version),
          ...(result.created ? { location: `/v1/${plural}/${encodeURIComponent(id)}` } : {}),
        });
      },
    },
    {
      method: 'DELETE',
      path: `/v1/${plural}/{proxy+}`,
      handler: async (event, { principal, awsRequestId }) => {
        const id = pathId(event, idSchema, kind);
        const expected = versionPrecondition(event);
        await writeAuthorized({
          ref: ref(id),
          expected,
          read: () => store.get(kind, id),
          authorize: (current) =>
            access.require(principal, `catalog:Delete${noun}`, ref(id), current ? [current.doc] : []),
          write: (precondition) =>
            store.delete(kind, id, precondition, { actor: toAuditActor(principal), requestId: awsRequestId }),
        });
        if (kind === 'team') access.invalidate();
        metrics.addMetric(apiMetrics.catalogChanges, MetricUnit.Count, 1);
        return { statusCode: 204 };
      },
    },
  ];
}

export const entityRoutes = (deps: ApiDeps): ApiRoute[] =>
  Object.values(kinds).flatMap((k) => routesFor(k, deps));
