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
} from '#functions/api/routes/telemetry-claims';
import { mapBounded } from '#shared/async/map-bounded';
import type { Principal } from '#shared/auth/principal';
import { toAuditActor } from '#shared/auth/principal-claims';
import { type CurrentEntity, type PlannedChange, planApply, summarize } from '#shared/catalog/apply-plan';
import { type CatalogDocument, catalogDocument, type DocumentEntity } from '#shared/catalog/catalog-document';
import { type EntityRef, entityRef, referencesOf } from '#shared/catalog/entity-kinds';
import { jsonResponse } from '#shared/http/json-response';
import { problems } from '#shared/http/problem';
import { storeProblem } from '#shared/http/problem-json-errors';
import type { ApiEvent } from '#shared/http/require-principal';
import { validationProblem } from '#shared/http/validation-problem';
import { apiMetrics } from '#shared/metrics/metric-names';
import {
  type CatalogStore,
  type ChangeContext,
  type StoredDocument,
  StoreError,
} from '#shared/store/catalog-store';
import { listEvery } from '#shared/store/list-every';

const flags = new Set(['dryRun', 'prune']);
/** Reads of the document's entities in flight at once (a document may name thousands). */
const readWidth = 16;

function booleanQuery(value: string | undefined, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw problems.badRequest(`${name} must be true or false`);
}

interface ApplyRequest {
  document: CatalogDocument;
  entities: DocumentEntity[];
  dryRun: boolean;
  /** The repository whose entities the document does not declare are deleted (`prune`). */
  pruneScope: string | undefined;
}

function applyFlags(query: Record<string, string | undefined>) {
  const unknown = Object.keys(query).filter((k) => !flags.has(k));
  if (unknown.length)
    throw problems.badRequest(`unknown query parameter(s): ${unknown.join(', ')}; use dryRun and prune`);
  return { dryRun: booleanQuery(query.dryRun, 'dryRun'), prune: booleanQuery(query.prune, 'prune') };
}

/** Each entity once, and no team its own parent. */
function checkDeclarations(entities: readonly DocumentEntity[]) {
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
}

function parseApplyRequest(event: ApiEvent): ApplyRequest {
  const { dryRun, prune } = applyFlags(event.queryStringParameters ?? {});
  const parsed = catalogDocument.safeParse(bodyObject(event));
  if (!parsed.success) throw validationProblem(parsed.error, 'catalog document');
  const document = parsed.data;
  const entities = document.entities as DocumentEntity[];
  checkDeclarations(entities);
  if (prune && !document.scope)
    throw problems.badRequest(
      'prune needs the document to declare its scope, e.g. "scope": { "repository": "github.com/acme/checkout" }',
    );
  return { document, entities, dryRun, pruneScope: prune ? document.scope?.repository : undefined };
}

/** The stored version of every entity the document declares. */
async function loadCurrent(store: CatalogStore, entities: readonly DocumentEntity[]) {
  const current = new Map<EntityRef, CurrentEntity>();
  const found = await mapBounded(entities, readWidth, (e) => store.get(e.kind, e.id));
  for (const [i, e] of entities.entries()) {
    const entity = found[i];
    if (entity) current.set(entityRef(e.kind, e.id), { doc: entity.doc, version: entity.version });
  }
  return current;
}

/** Every service of the scope's repository, and the repository itself: what `prune` may delete. */
async function inScope(store: CatalogStore, repository: string) {
  const found: PrunableEntity[] = (await listEvery(store, 'service'))
    .filter((e) => e.doc.repository === repository)
    .map((e) => ({ kind: 'service', id: e.doc.id, version: e.version, doc: e.doc }));
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
  { services, access, ownership }: ApiDeps,
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
  const stored = await services.fresh();
  const replaced = new Set([
    ...writes.map((w) => w.proposed.id),
    ...plan.filter((c) => c.kind === 'service' && c.action === 'delete').map((c) => c.id),
  ]);
  const catalog = [...stored.filter((s) => !replaced.has(s.id)), ...writes.map((w) => w.proposed)];
  // The fresh read holds only services with selectors; a written one's stored document counts too.
  const byId = new Map([
    ...stored.map((s) => [s.id, s] as const),
    ...writes.flatMap((w) => (w.current ? [[w.proposed.id, w.current] as const] : [])),
  ]);
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

/**
 * The plan, once the caller may make every change in it, its telemetry claims
 * are its own, and everything it refers to exists; otherwise the refusal.
 */
async function authorizedPlan(
  deps: ApiDeps,
  principal: Principal,
  { entities, pruneScope }: ApplyRequest,
  current: Map<EntityRef, CurrentEntity>,
) {
  const prunable = pruneScope ? await inScope(deps.store, pruneScope) : [];
  const plan = planApply(entities, current, prunable);
  const deletes = plan
    .filter((c) => c.action === 'delete')
    .map((c) => prunable.find((e) => entityRef(e.kind, e.id) === c.ref) as PrunableEntity);
  const refused = await refusedChanges(deps, principal, entities, current, deletes);
  if (refused.length) throw refusalProblem(refused);
  const claims = await claimsProblem(deps, principal, entities, current, plan);
  if (claims) throw claims;
  const missing = await missingReferences(deps.store, entities, current);
  if (missing.length)
    throw problems.validation(
      `The catalog document refers to entities that do not exist: ${missing[0]?.detail}`,
      missing,
    );
  return plan;
}

/** One planned change, written with its audit event; an unchanged entity writes nothing. */
async function writeChange({ store, metrics }: ApiDeps, change: PlannedChange, ctx: ChangeContext) {
  if (change.action === 'unchanged') return report(change, { version: change.expected });
  let written: ReturnType<typeof report>;
  if (change.action === 'delete') {
    await store.delete(change.kind, change.id, change.expected, ctx);
    written = report(change);
  } else {
    const result = await store.put(change.kind, change.doc as StoredDocument, change.expected, ctx);
    written = report(change, { version: result.entity.version });
  }
  metrics.addMetric(apiMetrics.catalogChanges, MetricUnit.Count, 1);
  return written;
}

/** A write that failed midway: what was applied, what failed, and that applying again completes it. */
function failedMidway(error: StoreError, change: PlannedChange, applied: ReturnType<typeof report>[]) {
  // The entity vanished after the plan was made: the plan's precondition failed, the route exists.
  const cause =
    error.code === 'not-found' ? new StoreError('precondition-failed', error.message, error.details) : error;
  const written = applied.filter((a) => a.action !== 'unchanged').length;
  return storeProblem(cause, {
    detail: `${change.action} ${change.ref} failed after ${written} change(s) were applied: ${error.message}. Apply the document again: it plans from what is there now and completes the rest.`,
    extensions: { applied, failed: report(change) },
  });
}

/** The plan in order, one audited write per change; a failure stops it, keeping what was written. */
async function writePlan(deps: ApiDeps, plan: readonly PlannedChange[], ctx: ChangeContext) {
  const applied: ReturnType<typeof report>[] = [];
  for (const change of plan) {
    try {
      applied.push(await writeChange(deps, change, ctx));
    } catch (error) {
      if (error instanceof StoreError) throw failedMidway(error, change, applied);
      throw error;
    }
  }
  return applied;
}

export const applyRoute = (deps: ApiDeps): ApiRoute => ({
  method: 'POST',
  path: '/v1/apply',
  jsonBody: true,
  handler: async (event, { principal, awsRequestId }) => {
    const request = parseApplyRequest(event);
    // Before anything is read: a caller without catalog:Apply learns nothing about the catalog.
    await deps.access.require(principal, 'catalog:Apply', applyResource(request.document.scope));
    const current = await loadCurrent(deps.store, request.entities);
    const plan = await authorizedPlan(deps, principal, request, current);
    const summary = summarize(plan);
    if (request.dryRun)
      return jsonResponse(200, { dryRun: true, summary, changes: plan.map((c) => report(c)) });

    const applied = await writePlan(deps, plan, { actor: toAuditActor(principal), requestId: awsRequestId });
    if (plan.some((c) => c.kind === 'team' && c.action !== 'unchanged')) deps.access.invalidate();
    return jsonResponse(200, { dryRun: false, summary, changes: applied });
  },
});
