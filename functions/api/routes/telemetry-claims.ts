/**
 * Service writes that claim telemetry (selector-claims.ts): a catch-all
 * selector needs `catalog:ClaimTelemetry` on the resource that names it, and a
 * claim that would take telemetry from another service needs the right to
 * change that service too; otherwise 403, or 409 naming the current owner.
 * Taking is judged twice: statically, selector against selector on the same
 * attribute (values not seen yet), and on the telemetry actually seen — every
 * observed source (observed-sources.ts) resolved with the catalog as it is and
 * as it would be (owner-changes.ts), whatever attributes the selectors name.
 * Checked against the catalog as read for this attempt of the write: the
 * services that have selectors, strongly consistent (SelectorSnapshot.fresh).
 */
import type { AccessControl } from '#functions/api/access-control';
import type { Principal } from '#shared/auth/principal';
import { HttpProblem, problems } from '#shared/http/problem';
import type { ObservedSource } from '#shared/ownership/observed-sources';
import { type OwnerChange, ownerChanges } from '#shared/ownership/owner-changes';
import {
  addedSelectors,
  type ClaimingService,
  type Contest,
  claimResource,
  contestsIn,
  describeClaim,
  indexSelectors,
  isCatchAll,
} from '#shared/ownership/selector-claims';
import type { SelectorSnapshot } from '#shared/ownership/selector-snapshot';
import type { StoredDocument } from '#shared/store/catalog-store';

export interface ServiceWrite {
  current?: StoredDocument;
  proposed: StoredDocument;
}

export interface ClaimRefusals {
  /** Catch-all selectors the caller may not claim. */
  forbidden: { ref: string; selector: string; decidedBy: string; reason: string }[];
  /** Claims on another service's telemetry, by a caller who may not change that service. */
  contested: Contest[];
  /** Observed sources the writes would move away from a service the caller may not change. */
  taken: OwnerChange[];
}

/** Whether the writes claim anything new: a new service claims its id, a changed one its added selectors. */
export const claimsAnything = (writes: readonly ServiceWrite[]) =>
  writes.some((w) => !w.current || addedSelectors(w.current, w.proposed).length > 0);

/** The catch-all selectors `proposed` adds that the caller may not claim. */
async function forbiddenCatchAlls(
  access: AccessControl,
  principal: Principal,
  current: StoredDocument | undefined,
  proposed: StoredDocument,
): Promise<ClaimRefusals['forbidden']> {
  const forbidden: ClaimRefusals['forbidden'] = [];
  const added = addedSelectors(current as ClaimingService | undefined, proposed as ClaimingService);
  for (const selector of added.filter(isCatchAll)) {
    const resource = claimResource(selector);
    const decision = await access.decide(principal, 'catalog:ClaimTelemetry', resource, [proposed]);
    if (!decision.allowed)
      forbidden.push({
        ref: `service/${proposed.id}`,
        selector: resource,
        decidedBy: decision.decidedBy,
        reason: decision.reason,
      });
  }
  return forbidden;
}

/**
 * `writes` against `catalog`: every service as it will be once they land
 * (stored ones, with the written ones replaced). `stored` gives each owner's
 * stored document, tested with its new one when the same request changes it,
 * and is the catalog as it is for the `observed` sources.
 */
export async function refusedClaims(
  access: AccessControl,
  principal: Principal,
  writes: readonly ServiceWrite[],
  catalog: readonly StoredDocument[],
  stored: ReadonlyMap<string, StoredDocument>,
  observed: readonly ObservedSource[],
): Promise<ClaimRefusals> {
  const refusals: ClaimRefusals = { forbidden: [], contested: [], taken: [] };
  const byId = new Map(catalog.map((s) => [s.id, s]));
  // Each contested owner is decided once, and only contested owners are: a catalog of services the
  // caller may not change costs nothing until a claim actually meets one of them.
  const mayChange = new Map<string, Promise<boolean>>();
  const mayChangeOwner = (owner: string) => {
    let allowed = mayChange.get(owner);
    if (!allowed) {
      const documents = [stored.get(owner), byId.get(owner)].filter(
        (d): d is StoredDocument => d !== undefined,
      );
      allowed = access
        .decide(principal, 'catalog:PutService', `service/${owner}`, documents)
        .then((d) => d.allowed);
      mayChange.set(owner, allowed);
    }
    return allowed;
  };
  const index = indexSelectors(catalog as readonly ClaimingService[]);
  for (const { current, proposed } of writes) {
    refusals.forbidden.push(...(await forbiddenCatchAlls(access, principal, current, proposed)));
    for (const contest of contestsIn(
      current as ClaimingService | undefined,
      proposed as ClaimingService,
      index,
    ))
      if (!(await mayChangeOwner(contest.owner))) refusals.contested.push(contest);
  }
  const added = writes.flatMap((w) =>
    addedSelectors(w.current as ClaimingService | undefined, w.proposed as ClaimingService),
  );
  const remaining = new Set(catalog.map((s) => s.id));
  const changes = ownerChanges(
    observed,
    [...stored.values()] as ClaimingService[],
    catalog as readonly ClaimingService[],
    added,
  );
  for (const change of changes) {
    // An owner deleted by the same request was authorized as a deletion.
    if (!remaining.has(change.from)) continue;
    if (!(await mayChangeOwner(change.from))) refusals.taken.push(change);
  }
  return refusals;
}

const describeSource = (source: ObservedSource) =>
  Object.entries(source.attributes)
    .map(([name, value]) => `${name}=${[value].flat().join(',')}`)
    .join(' ');

/** How many refused sources a 409 lists. */
const listedSources = 20;

/** The refusals as the API answers them: 403 for a catch-all, else 409 naming the current owner. */
export function claimProblem(refusals: ClaimRefusals): HttpProblem | undefined {
  const [forbidden] = refusals.forbidden;
  if (forbidden) {
    return new HttpProblem(
      403,
      'Forbidden',
      `${forbidden.ref} claims the catch-all ${forbidden.selector}, which needs catalog:ClaimTelemetry on it: ${forbidden.reason}`,
      { decidedBy: forbidden.decidedBy, refused: refusals.forbidden },
      'urn:portolan:problem:forbidden',
    );
  }
  const [first] = refusals.contested;
  if (!first) return takenProblem(refusals.taken);
  return problems.conflict(
    `service/${first.service}: the ${describeClaim(first.claim)} claim would take telemetry from service/${first.owner}, which owns it today with ${describeClaim(first.ownerSelector)}; only a caller allowed to change service/${first.owner} may claim it (or narrow the selector)`,
    {
      owner: `service/${first.owner}`,
      contested: refusals.contested.map((c) => ({
        service: `service/${c.service}`,
        claim: c.claim,
        owner: `service/${c.owner}`,
        ownerSelector: c.ownerSelector,
      })),
    },
  );
}

function takenProblem(taken: readonly OwnerChange[]): HttpProblem | undefined {
  const [first] = taken;
  if (!first) return undefined;
  const to = first.to ? `service/${first.to}` : 'nobody';
  return problems.conflict(
    `the write would give ${to} the telemetry of a source seen ${first.source.lastSeen} (${describeSource(first.source)}), which service/${first.from} owns today; only a caller allowed to change service/${first.from} may claim it (or narrow the selectors)`,
    {
      owner: `service/${first.from}`,
      source: first.source.attributes,
      taken: taken.slice(0, listedSources).map((t) => ({
        source: t.source.attributes,
        lastSeen: t.source.lastSeen,
        owner: `service/${t.from}`,
        ...(t.to ? { to: `service/${t.to}` } : {}),
      })),
      ...(taken.length > listedSources ? { takenTotal: taken.length } : {}),
    },
  );
}

/**
 * For `PUT /v1/services/{id}`: throws 403 or 409 unless the write may claim
 * what it claims; `observed` loads the observed sources when there is a claim to check.
 */
export async function requireClaims(
  services: SelectorSnapshot,
  access: AccessControl,
  principal: Principal,
  write: ServiceWrite,
  observed: () => Promise<readonly ObservedSource[]>,
): Promise<void> {
  if (!claimsAnything([write])) return;
  // Fresh, not the resolve snapshot's TTL copy: a claim written a moment ago elsewhere must count.
  const stored = await services.fresh();
  const catalog = [...stored.filter((s) => s.id !== write.proposed.id), write.proposed];
  const refusals = await refusedClaims(
    access,
    principal,
    [write],
    catalog,
    new Map(stored.map((s) => [s.id, s])),
    await observed(),
  );
  const problem = claimProblem(refusals);
  if (problem) throw problem;
}
