/**
 * `POST /v1/apply[?dryRun=true][&prune=true]`: converges the catalog to a
 * whole document. Validates it, checks `catalog:Apply`, plans it against the
 * catalog, authorizes every entity on its own (apply-authorization.ts; a
 * refused entity is named with the deciding statement, and then nothing is
 * written), and applies the changes one audited
 * transaction each, referenced entities first. A failure midway leaves a
 * prefix of the plan applied; the next apply plans again from what is there
 * and completes it. An unchanged entity writes nothing and no audit event.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { bodyObject } from '#functions/api/request-parsing';
import {
  applyResource,
  type PrunableEntity,
  refusalProblem,
  refusedChanges,
} from '#functions/api/routes/apply-authorization';
import {
  claimProblem,
  claimsAnything,
  refusedClaims,
  type ServiceWrite,
  storedServices,
} from '#functions/api/routes/telemetry-claims';
import type { Principal } from '#shared/auth/principal';
import { toAuditActor } from '#shared/auth/principal-claims';
import { type CurrentEntity, type PlannedChange, planApply, summarize } from '#shared/catalog/apply-plan';
import { catalogDocument, type DocumentEntity } from '#shared/catalog/catalog-document';
import { type EntityRef, entityRef, referencesOf } from '#shared/catalog/entity-kinds';
import { jsonResponse } from '#shared/http/json-response';
import { HttpProblem, problems } from '#shared/http/problem';
import { validationProblem } from '#shared/http/validation-problem';
import { type CatalogStore, type StoredDocument, StoreError } from '#shared/store/catalog-store';

const flags = new Set(['dryRun', 'prune']);

function booleanQuery(value: string | undefined, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw problems.badRequest(`${name} must be true or false`);
}

/** Every service of the scope's repository, and the repository itself: what `prune` may delete. */
async function inScope(store: CatalogStore, repository: string) {
  const found: PrunableEntity[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list('service', { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const e of page.items)
      if (e.doc.repository === repository)
        found.push({ kind: 'service', id: e.doc.id, version: e.version, doc: e.doc });
    cursor = page.nextCursor;
  } while (cursor);
  const repo = await store.get('repository', repository);
  if (repo) found.push({ kind: 'repository', id: repository, version: repo.version, doc: repo.doc });
  return found;
}

/** What the plan needs to exist: references to entities neither declared nor in the catalog are refused now. */
async function missingReferences(
  store: CatalogStore,
  entities: DocumentEntity[],
  current: Map<EntityRef, CurrentEntity>,
) {
  const declared = new Set(entities.map((e) => entityRef(e.kind, e.id)));
  // Each outside reference is looked up once, however many entities share it.
  const outside = new Map<EntityRef, Promise<boolean>>();
  const exists = (ref: EntityRef) => {
    let found = outside.get(ref);
    if (!found) {
      const [kind, ...rest] = ref.split('/');
      found = store.get(kind as never, rest.join('/')).then(Boolean);
      outside.set(ref, found);
    }
    return found;
  };
  const missing: { pointer: string; detail: string }[] = [];
  for (const [i, entity] of entities.entries()) {
    for (const ref of referencesOf(entity.kind, entity)) {
      if (declared.has(ref) || current.has(ref) || (await exists(ref))) continue;
      missing.push({ pointer: `/entities/${i}`, detail: `${ref} does not exist and is not in the document` });
    }
  }
  return missing;
}

/** The document's services against the catalog as it will be: its services written, prune's deleted. */
async function claimsProblem(
  { store, access, ownership }: ApiDeps,
  principal: Principal,
  entities: DocumentEntity[],
  current: ReadonlyMap<EntityRef, CurrentEntity>,
  plan: readonly PlannedChange[],
) {
  const writes: ServiceWrite[] = entities
    .filter((e) => e.kind === 'service')
    .map(({ kind: _, ...proposed }) => {
      const stored = current.get(entityRef('service', proposed.id))?.doc as StoredDocument | undefined;
      return { ...(stored ? { current: stored } : {}), proposed };
    });
  if (!claimsAnything(writes)) return undefined;
  const stored = await storedServices(store);
  const replaced = new Set([
    ...writes.map((w) => w.proposed.id),
    ...plan.filter((c) => c.kind === 'service' && c.action === 'delete').map((c) => c.id),
  ]);
  const catalog = [...stored.filter((s) => !replaced.has(s.id)), ...writes.map((w) => w.proposed)];
  const byId = new Map(stored.map((s) => [s.id, s]));
  return claimProblem(
    await refusedClaims(access, principal, writes, catalog, byId, await ownership.observed()),
  );
}

const report = (change: PlannedChange, extra: Record<string, unknown> = {}) => ({
  ref: change.ref,
  action: change.action,
  ...(change.diff ? { diff: change.diff } : {}),
  ...extra,
});

export const applyRoute = (deps: ApiDeps): ApiRoute => ({
  method: 'POST',
  path: '/v1/apply',
  jsonBody: true,
  handler: async (event, { principal, awsRequestId }) => {
    const query = event.queryStringParameters ?? {};
    const unknown = Object.keys(query).filter((k) => !flags.has(k));
    if (unknown.length)
      throw problems.badRequest(`unknown query parameter(s): ${unknown.join(', ')}; use dryRun and prune`);
    const dryRun = booleanQuery(query.dryRun, 'dryRun');
    const prune = booleanQuery(query.prune, 'prune');

    const parsed = catalogDocument.safeParse(bodyObject(event));
    if (!parsed.success) throw validationProblem(parsed.error, 'catalog document');
    const document = parsed.data;
    const entities = document.entities as DocumentEntity[];
    const seen = new Map<string, number>();
    for (const [i, e] of entities.entries()) {
      const ref = entityRef(e.kind, e.id);
      if (seen.has(ref))
        throw problems.validation(`${ref} is declared twice (entities ${seen.get(ref)} and ${i})`, [
          { pointer: `/entities/${i}`, detail: `${ref} is already declared at /entities/${seen.get(ref)}` },
        ]);
      seen.set(ref, i);
      // Its own parent would put and reference one item in one transaction, which DynamoDB refuses.
      if (e.kind === 'team' && (e as { parent?: string }).parent === e.id)
        throw problems.validation(`${ref} cannot be its own parent`, [
          { pointer: `/entities/${i}/parent`, detail: 'a team cannot be its own parent' },
        ]);
    }
    if (prune && !document.scope)
      throw problems.badRequest(
        'prune needs the document to declare its scope, e.g. "scope": { "repository": "github.com/acme/checkout" }',
      );

    // Before anything is read: a caller without catalog:Apply learns nothing about the catalog.
    await deps.access.require(principal, 'catalog:Apply', applyResource(document.scope));

    const { store } = deps;
    const current = new Map<EntityRef, CurrentEntity>();
    const found = await Promise.all(entities.map((e) => store.get(e.kind, e.id)));
    for (const [i, e] of entities.entries()) {
      const entity = found[i];
      if (entity) current.set(entityRef(e.kind, e.id), { doc: entity.doc, version: entity.version });
    }
    const prunable = prune && document.scope ? await inScope(store, document.scope.repository) : [];
    const plan = planApply(entities, current, prunable);
    const deletes = plan
      .filter((c) => c.action === 'delete')
      .map((c) => prunable.find((e) => entityRef(e.kind, e.id) === c.ref) as PrunableEntity);
    const refused = await refusedChanges(deps, principal, entities, current, deletes);
    if (refused.length) throw refusalProblem(refused);
    const claims = await claimsProblem(deps, principal, entities, current, plan);
    if (claims) throw claims;

    const missing = await missingReferences(store, entities, current);
    if (missing.length)
      throw problems.validation(
        `The catalog document refers to entities that do not exist: ${missing[0]?.detail}`,
        missing,
      );
    const summary = summarize(plan);
    if (dryRun) return jsonResponse(200, { dryRun: true, summary, changes: plan.map((c) => report(c)) });

    const ctx = { actor: toAuditActor(principal), requestId: awsRequestId };
    const applied: ReturnType<typeof report>[] = [];
    for (const change of plan) {
      try {
        if (change.action === 'create' || change.action === 'update') {
          const result = await store.put(
            change.kind,
            change.doc as PlannedChange['doc'] & object,
            change.expected,
            ctx,
          );
          applied.push(report(change, { version: result.entity.version }));
          deps.metrics.addMetric('CatalogChanges', MetricUnit.Count, 1);
        } else if (change.action === 'delete') {
          await store.delete(change.kind, change.id, change.expected, ctx);
          applied.push(report(change));
          deps.metrics.addMetric('CatalogChanges', MetricUnit.Count, 1);
        } else applied.push(report(change, { version: change.expected }));
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        const status = {
          'precondition-failed': 412,
          conflict: 409,
          'missing-reference': 422,
          'not-found': 412,
          'bad-cursor': 400,
        }[error.code];
        throw new HttpProblem(
          status,
          status === 412 ? 'Precondition Failed' : 'Conflict',
          `${change.action} ${change.ref} failed after ${applied.filter((a) => a.action !== 'unchanged').length} change(s) were applied: ${error.message}. Apply the document again: it plans from what is there now and completes the rest.`,
          { applied, failed: report(change), ...error.details },
          `urn:portolan:problem:${error.code}`,
        );
      }
    }
    if (plan.some((c) => c.kind === 'team' && c.action !== 'unchanged')) deps.access.invalidate();
    return jsonResponse(200, { dryRun: false, summary, changes: applied });
  },
});
