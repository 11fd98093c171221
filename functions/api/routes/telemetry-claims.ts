/**
 * Service writes that claim telemetry (selector-claims.ts): a catch-all
 * selector needs `catalog:ClaimTelemetry` on the resource that names it, and a
 * claim that would take telemetry from another service needs the right to
 * change that service too; otherwise 403, or 409 naming the current owner.
 * Checked against the catalog as read for this attempt of the write: the
 * services that have selectors, strongly consistent (SelectorSnapshot.fresh).
 */
import type { AccessControl } from '#functions/api/access-control';
import type { Principal } from '#shared/auth/principal';
import { HttpProblem, problems } from '#shared/http/problem';
import {
  addedSelectors,
  type ClaimingService,
  type Contest,
  claimResource,
  contestedClaims,
  describeClaim,
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
}

/** Whether the writes claim anything new: a new service claims its id, a changed one its added selectors. */
export const claimsAnything = (writes: readonly ServiceWrite[]) =>
  writes.some((w) => !w.current || addedSelectors(w.current, w.proposed).length > 0);

/**
 * `writes` against `catalog`: every service as it will be once they land
 * (stored ones, with the written ones replaced). `stored` gives each owner's
 * stored document, tested with its new one when the same request changes it.
 */
export async function refusedClaims(
  access: AccessControl,
  principal: Principal,
  writes: readonly ServiceWrite[],
  catalog: readonly StoredDocument[],
  stored: ReadonlyMap<string, StoredDocument>,
): Promise<ClaimRefusals> {
  const refusals: ClaimRefusals = { forbidden: [], contested: [] };
  const mayChange = new Map<string, Promise<boolean>>();
  const mayChangeOwner = (owner: string) => {
    let allowed = mayChange.get(owner);
    if (!allowed) {
      const documents = [stored.get(owner), catalog.find((s) => s.id === owner)].filter(
        (d): d is StoredDocument => d !== undefined,
      );
      allowed = access
        .decide(principal, 'catalog:PutService', `service/${owner}`, documents)
        .then((d) => d.allowed);
      mayChange.set(owner, allowed);
    }
    return allowed;
  };
  for (const { current, proposed } of writes) {
    const claimant = proposed as ClaimingService;
    for (const selector of addedSelectors(current as ClaimingService | undefined, claimant).filter(
      isCatchAll,
    )) {
      const resource = claimResource(selector);
      const decision = await access.decide(principal, 'catalog:ClaimTelemetry', resource, [proposed]);
      if (!decision.allowed)
        refusals.forbidden.push({
          ref: `service/${proposed.id}`,
          selector: resource,
          decidedBy: decision.decidedBy,
          reason: decision.reason,
        });
    }
    // Only services the caller may not change can be wronged: the others are not even compared,
    // so services a caller plants for itself cannot make its next write expensive.
    const protectedServices: ClaimingService[] = [];
    for (const other of catalog as readonly ClaimingService[]) {
      if (other.id === proposed.id || !other.selectors?.length) continue;
      if (!(await mayChangeOwner(other.id))) protectedServices.push(other);
    }
    refusals.contested.push(
      ...contestedClaims(current as ClaimingService | undefined, claimant, protectedServices),
    );
  }
  return refusals;
}

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
  if (!first) return undefined;
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

/** For `PUT /v1/services/{id}`: throws 403 or 409 unless the write may claim what it claims. */
export async function requireClaims(
  services: SelectorSnapshot,
  access: AccessControl,
  principal: Principal,
  write: ServiceWrite,
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
  );
  const problem = claimProblem(refusals);
  if (problem) throw problem;
}
