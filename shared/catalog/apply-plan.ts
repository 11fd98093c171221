/**
 * The plan of a declarative apply, pure: what the document asks for against
 * what the catalog holds — per entity create, update (with the fields that
 * change), delete (only what `prune` may remove) or unchanged — in an order
 * the catalog's references allow: what is pointed at is written first and
 * deleted last.
 */
import { type EntityKind, type EntityRef, entityRef } from '#shared/catalog/entity-kinds';
import { sameJson } from '#shared/json/canonical-json';

export type PlanAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface FieldChange {
  /** Dotted path of the field, e.g. `contacts.slack`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface PlannedChange {
  ref: EntityRef;
  kind: EntityKind;
  id: string;
  action: PlanAction;
  /** For updates: the fields that change. */
  diff?: FieldChange[];
  /** The document to write (create, update). */
  doc?: Record<string, unknown> & { id: string };
  /** The version the plan was made against: the write's precondition. */
  expected: number | 'absent';
}

export interface CurrentEntity {
  doc: Record<string, unknown>;
  version: number;
}

type Doc = Record<string, unknown> & { id: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields that differ, objects walked into, arrays compared whole. */
export function fieldDiff(before: unknown, after: unknown, prefix = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => fieldDiff(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  if (sameJson(before, after)) return [];
  return [
    {
      path: prefix,
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    },
  ];
}

/** Write order of kinds: what others point at first. */
const writeOrder: EntityKind[] = ['environment', 'team', 'repository', 'service'];

/** Teams with their parents before them (a parent in the same document is written first). */
function parentsFirst(teams: Doc[]): Doc[] {
  const byId = new Map(teams.map((t) => [t.id, t]));
  const ordered: Doc[] = [];
  const visiting = new Set<string>();
  const visit = (team: Doc) => {
    if (ordered.includes(team) || visiting.has(team.id)) return;
    visiting.add(team.id);
    const parent = typeof team.parent === 'string' ? byId.get(team.parent) : undefined;
    if (parent) visit(parent);
    ordered.push(team);
  };
  for (const team of teams) visit(team);
  return ordered;
}

export function planApply(
  desired: (Doc & { kind: EntityKind })[],
  current: ReadonlyMap<EntityRef, CurrentEntity>,
  /** Entities in the document's scope that `prune` may delete when the document omits them. */
  prunable: readonly { kind: EntityKind; id: string; version: number }[] = [],
): PlannedChange[] {
  const plan: PlannedChange[] = [];
  for (const kind of writeOrder) {
    let ofKind = desired.filter((e) => e.kind === kind).map(({ kind: _, ...doc }) => doc as Doc);
    if (kind === 'team') ofKind = parentsFirst(ofKind);
    for (const doc of ofKind) {
      const ref = entityRef(kind, doc.id);
      const existing = current.get(ref);
      if (!existing) {
        plan.push({ ref, kind, id: doc.id, action: 'create', doc, expected: 'absent' });
        continue;
      }
      const diff = fieldDiff(existing.doc, doc);
      plan.push({
        ref,
        kind,
        id: doc.id,
        action: diff.length ? 'update' : 'unchanged',
        ...(diff.length ? { diff, doc } : {}),
        expected: existing.version,
      });
    }
  }
  const declared = new Set(desired.map((e) => entityRef(e.kind, e.id)));
  const deletes = prunable
    .filter((e) => !declared.has(entityRef(e.kind, e.id)))
    .sort((a, b) => writeOrder.indexOf(b.kind) - writeOrder.indexOf(a.kind));
  for (const e of deletes)
    plan.push({
      ref: entityRef(e.kind, e.id),
      kind: e.kind,
      id: e.id,
      action: 'delete',
      expected: e.version,
    });
  return plan;
}

export function summarize(plan: readonly PlannedChange[]): Record<PlanAction, number> {
  const summary: Record<PlanAction, number> = { create: 0, update: 0, delete: 0, unchanged: 0 };
  for (const change of plan) summary[change.action]++;
  return summary;
}
