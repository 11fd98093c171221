/**
 * Who may apply what. `catalog:Apply` first, on the document's scope
 * (`repository/<id>`, or `catalog` for a document without one), before the
 * catalog is read, so a caller without it learns nothing about what exists.
 * Then every entity the document declares, changed or not, and every entity
 * prune would delete, each against its stored document: the same decision a
 * `PUT` or `DELETE` of that entity gets. A refusal is reported as `put` or
 * `delete`, never as create / update / unchanged, so it does not say whether
 * the entity exists.
 */
import type { ApiDeps } from '#functions/api/api-deps';
import type { Principal } from '#shared/auth/principal';
import type { CurrentEntity } from '#shared/catalog/apply-plan';
import type { DocumentEntity } from '#shared/catalog/catalog-document';
import { type EntityKind, type EntityRef, entityRef, kinds } from '#shared/catalog/entity-kinds';
import { HttpProblem } from '#shared/http/problem';
import { sameJson } from '#shared/json/canonical-json';

export interface Refusal {
  ref: EntityRef;
  action: 'put' | 'delete';
  decidedBy: string;
  reason: string;
}

/** What `catalog:Apply` is checked on: the repository the document speaks for, or the whole catalog. */
export const applyResource = (scope: { repository: string } | undefined) =>
  scope ? `repository/${scope.repository}` : 'catalog';

export interface PrunableEntity {
  kind: EntityKind;
  id: string;
  version: number;
  doc: Record<string, unknown>;
}

export async function refusedChanges(
  { access }: ApiDeps,
  principal: Principal,
  entities: DocumentEntity[],
  current: ReadonlyMap<EntityRef, CurrentEntity>,
  deletes: readonly PrunableEntity[],
): Promise<Refusal[]> {
  const refused: Refusal[] = [];
  for (const { kind, ...doc } of entities) {
    const ref = entityRef(kind, doc.id);
    const stored = current.get(ref)?.doc;
    const noun = kinds[kind].noun;
    const put = await access.decide(principal, `catalog:Put${noun}`, ref, stored ? [stored, doc] : [doc]);
    if (put.allowed) continue;
    // Declaring an entity exactly as it is writes nothing: reading it is enough.
    if (stored && sameJson(stored, doc)) {
      const read = await access.decide(principal, `catalog:Get${noun}`, ref, [stored]);
      if (read.allowed) continue;
    }
    refused.push({ ref, action: 'put', decidedBy: put.decidedBy, reason: put.reason });
  }
  for (const entity of deletes) {
    const ref = entityRef(entity.kind, entity.id);
    const noun = kinds[entity.kind].noun;
    const decision = await access.decide(principal, `catalog:Delete${noun}`, ref, [entity.doc]);
    if (!decision.allowed)
      refused.push({ ref, action: 'delete', decidedBy: decision.decidedBy, reason: decision.reason });
  }
  return refused;
}

export function refusalProblem(refused: Refusal[]): HttpProblem {
  const first = refused[0] as Refusal;
  return new HttpProblem(
    403,
    'Forbidden',
    `${refused.length} change(s) refused, nothing written; first: ${first.action} ${first.ref}: ${first.reason}`,
    { decidedBy: first.decidedBy, refused },
    'urn:portolan:problem:forbidden',
  );
}
