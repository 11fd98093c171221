/**
 * The claim check as it was before contested owners were indexed: kept here
 * only so `bench/claims/run.ts` can measure the two side by side. It decides
 * every other service with selectors (each owner found with a linear scan)
 * before comparing selectors, and compares every selector with every other.
 * Not used by the API.
 */
import type { AccessControl } from '#functions/api/access-control';
import type { ClaimRefusals, ServiceWrite } from '#functions/api/routes/telemetry-claims';
import type { Principal } from '#shared/auth/principal';
import type { Selector } from '#shared/catalog/entity-schemas';
import { compileGlob, type Glob, globOf, globsIntersect, matchGlob } from '#shared/matching/glob';
import type { ObservedSource } from '#shared/ownership/observed-sources';
import type { OwnerChange } from '#shared/ownership/owner-changes';
import { servicesSnapshot, witness } from '#shared/ownership/owner-changes';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { type CatalogSnapshot, resolveOwnership } from '#shared/ownership/resolve-ownership';
import {
  addedSelectors,
  type ClaimingService,
  type Contest,
  claimResource,
  isCatchAll,
} from '#shared/ownership/selector-claims';
import { rankOf, selectorSpecificity } from '#shared/ownership/selector-matcher';
import { identifyingAttributes } from '#shared/ownership/source-tracker';
import type { StoredDocument } from '#shared/store/catalog-store';

function asGlob(selector: Selector): Glob {
  if (selector.match === 'glob') return compileGlob(selector.value);
  const pieces = [{ text: selector.value, wildcards: false }];
  if (selector.match === 'prefix') pieces.push({ text: '*', wildcards: true });
  return globOf(pieces);
}

function overlaps(a: Selector, b: Selector): boolean {
  if (a.match === 'exact' && b.match === 'exact') return a.value === b.value;
  if (a.match === 'exact') return matchGlob(asGlob(b), a.value);
  if (b.match === 'exact') return matchGlob(asGlob(a), b.value);
  if (a.match === 'prefix' && b.match === 'prefix')
    return a.value.startsWith(b.value) || b.value.startsWith(a.value);
  return globsIntersect(asGlob(a), asGlob(b)) !== undefined;
}

const atLeastAsSpecific = (claim: Selector, owned: Selector) =>
  rankOf[claim.match] > rankOf[owned.match] ||
  (rankOf[claim.match] === rankOf[owned.match] && selectorSpecificity(claim) >= selectorSpecificity(owned));

const ownerIn = (attributes: SourceAttributes, catalog: CatalogSnapshot) => {
  const result = resolveOwnership(attributes, catalog);
  return result.status === 'owned' ? result.match.service : undefined;
};

const identifying = new Set(identifyingAttributes);

function assuming(attributes: SourceAttributes, selectors: readonly Selector[]): SourceAttributes {
  let assumed = attributes;
  for (const selector of selectors) {
    if (identifying.has(selector.attribute) || Object.hasOwn(attributes, selector.attribute)) continue;
    const value = witness(selector);
    const already = assumed[selector.attribute];
    assumed = {
      ...assumed,
      [selector.attribute]: already === undefined ? value : [...[already].flat(), value],
    };
  }
  return assumed;
}

/** Both catalogs compiled on every call, whatever the sources. */
function ownerChangesBaseline(
  observed: readonly ObservedSource[],
  before: readonly ClaimingService[],
  after: readonly ClaimingService[],
  added: readonly Selector[],
): OwnerChange[] {
  const was = servicesSnapshot(before);
  const will = servicesSnapshot(after);
  const changes: OwnerChange[] = [];
  for (const source of observed) {
    const from = ownerIn(source.attributes, was);
    if (from === undefined) continue;
    const to = ownerIn(assuming(source.attributes, added), will);
    if (to !== from) changes.push({ source, from, to });
  }
  return changes;
}

function contestedClaimsBaseline(
  current: ClaimingService | undefined,
  proposed: ClaimingService,
  others: readonly ClaimingService[],
): Contest[] {
  const added = addedSelectors(current, proposed);
  const contests: Contest[] = [];
  for (const other of others) {
    if (other.id === proposed.id) continue;
    for (const owned of other.selectors ?? []) {
      if (!current && owned.attribute === 'service.name' && matchGlob(asGlob(owned), proposed.id)) {
        contests.push({
          service: proposed.id,
          claim: { attribute: 'service.name', match: 'name', value: proposed.id },
          owner: other.id,
          ownerSelector: owned,
        });
      }
      for (const claim of added) {
        if (claim.attribute === owned.attribute && atLeastAsSpecific(claim, owned) && overlaps(claim, owned))
          contests.push({ service: proposed.id, claim, owner: other.id, ownerSelector: owned });
      }
    }
  }
  return contests;
}

export async function refusedClaimsBaseline(
  access: AccessControl,
  principal: Principal,
  writes: readonly ServiceWrite[],
  catalog: readonly StoredDocument[],
  stored: ReadonlyMap<string, StoredDocument>,
  observed: readonly ObservedSource[],
): Promise<ClaimRefusals> {
  const refusals: ClaimRefusals = { forbidden: [], contested: [], taken: [] };
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
    const protectedServices: ClaimingService[] = [];
    for (const other of catalog as readonly ClaimingService[]) {
      if (other.id === proposed.id || !other.selectors?.length) continue;
      if (!(await mayChangeOwner(other.id))) protectedServices.push(other);
    }
    refusals.contested.push(
      ...contestedClaimsBaseline(current as ClaimingService | undefined, claimant, protectedServices),
    );
  }
  const added = writes.flatMap((w) =>
    addedSelectors(w.current as ClaimingService | undefined, w.proposed as ClaimingService),
  );
  const remaining = new Set(catalog.map((s) => s.id));
  const changes = ownerChangesBaseline(
    observed,
    [...stored.values()] as ClaimingService[],
    catalog as readonly ClaimingService[],
    added,
  );
  for (const change of changes) {
    if (!remaining.has(change.from)) continue;
    if (!(await mayChangeOwner(change.from))) refusals.taken.push(change);
  }
  return refusals;
}
