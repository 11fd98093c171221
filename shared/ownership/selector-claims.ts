/**
 * A selector is a claim on telemetry; so is a service's id, on `service.name`
 * (resolution tries it before any selector). Pure: which claims a service
 * write adds that would take telemetry away from another service, and which
 * are catch-alls.
 *
 * A new claim contests another service's selector on the same attribute when
 * some value matches both and the new one is at least as specific (same or
 * higher rank — exact > prefix > glob —, then same or more literal characters):
 * for that value the owner would then depend on an alphabetical tie-break, or
 * lose outright. A claim less specific than the owner's takes nothing from it.
 * A service's id contests every `service.name` selector of another service
 * that matches it. Selectors on different attributes are not compared: a
 * record carrying both attributes goes to the more specific rule.
 */
import type { Selector } from '#shared/catalog/entity-schemas';
import {
  compileGlob,
  type Glob,
  globOf,
  globsIntersect,
  literalLength,
  matchGlob,
} from '#shared/matching/glob';
import { rankOf, selectorSpecificity } from '#shared/ownership/selector-matcher';

export interface ClaimingService {
  id: string;
  selectors?: Selector[];
}

export interface Contest {
  /** The service making the claim. */
  service: string;
  /** The new claim: one of the service's selectors, or its id (`match: 'name'`). */
  claim: { attribute: string; match: Selector['match'] | 'name'; value: string };
  /** The service whose telemetry it would take, and the selector that matches it today. */
  owner: string;
  ownerSelector: Selector;
}

/**
 * A prefix or glob that fixes fewer than this many characters matches so much
 * telemetry (`*`, `a*`, `*-*`, prefix `ap`) that no service write may claim it
 * without `catalog:ClaimTelemetry`.
 */
export const catchAllLiteralCharacters = 4;

export const isCatchAll = (selector: Selector) =>
  selector.match !== 'exact' && literalLength(asGlob(selector)) < catchAllLiteralCharacters;

/** The policy resource that names a claim: `selector/<attribute>:<match>:<value>`. */
export const claimResource = (selector: Selector) =>
  `selector/${selector.attribute}:${selector.match}:${selector.value}`;

const sameSelector = (a: Selector, b: Selector) =>
  a.attribute === b.attribute && a.match === b.match && a.value === b.value;

/** The selectors `proposed` adds to what `current` already claimed. */
export const addedSelectors = (current: ClaimingService | undefined, proposed: ClaimingService) =>
  (proposed.selectors ?? []).filter((s) => !(current?.selectors ?? []).some((c) => sameSelector(c, s)));

/** A selector as a glob whose literal characters stay literal (a prefix's `*` is a character). */
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

/** Whether `claim` wins, or ties, against `owned` for a value both match. */
const atLeastAsSpecific = (claim: Selector, owned: Selector) =>
  rankOf[claim.match] > rankOf[owned.match] ||
  (rankOf[claim.match] === rankOf[owned.match] && selectorSpecificity(claim) >= selectorSpecificity(owned));

/** One service's selector, with where it stands in the catalog (contests keep catalog order). */
interface IndexedSelector {
  owner: string;
  selector: Selector;
  /** Position of the owner in the catalog, then of the selector in the owner's list. */
  order: [number, number];
}

/**
 * The catalog's selectors grouped by attribute. Only selectors on the same
 * attribute can contest each other statically, so a claim is compared with
 * its attribute's group alone: the cost follows that group, not the catalog.
 */
export type SelectorIndex = ReadonlyMap<string, readonly IndexedSelector[]>;

export function indexSelectors(services: readonly ClaimingService[]): SelectorIndex {
  const index = new Map<string, IndexedSelector[]>();
  services.forEach((service, position) => {
    (service.selectors ?? []).forEach((selector, at) => {
      const group = index.get(selector.attribute);
      const entry = { owner: service.id, selector, order: [position, at] as [number, number] };
      if (group) group.push(entry);
      else index.set(selector.attribute, [entry]);
    });
  });
  return index;
}

type Ordered = { contest: Contest; order: [number, number, number] };

const byCatalogOrder = (a: Ordered, b: Ordered) =>
  a.order[0] - b.order[0] || a.order[1] - b.order[1] || a.order[2] - b.order[2];

/**
 * The contests a write of `proposed` starts (over `current`, its stored version
 * if any) against the catalog's other services as they will be, `index`ed.
 */
export function contestsIn(
  current: ClaimingService | undefined,
  proposed: ClaimingService,
  index: SelectorIndex,
): Contest[] {
  const found: Ordered[] = [];
  const others = (attribute: string) => (index.get(attribute) ?? []).filter((o) => o.owner !== proposed.id);
  if (!current) {
    for (const { owner, selector, order } of others('service.name')) {
      if (!matchGlob(asGlob(selector), proposed.id)) continue;
      const claim = { attribute: 'service.name', match: 'name' as const, value: proposed.id };
      found.push({
        contest: { service: proposed.id, claim, owner, ownerSelector: selector },
        order: [...order, -1],
      });
    }
  }
  addedSelectors(current, proposed).forEach((claim, at) => {
    for (const { owner, selector, order } of others(claim.attribute)) {
      if (atLeastAsSpecific(claim, selector) && overlaps(claim, selector))
        found.push({
          contest: { service: proposed.id, claim, owner, ownerSelector: selector },
          order: [...order, at],
        });
    }
  });
  return found.sort(byCatalogOrder).map((f) => f.contest);
}

/**
 * The contests a write of `proposed` starts (over `current`, its stored version
 * if any) against `others`: the catalog's other services as they will be.
 */
export const contestedClaims = (
  current: ClaimingService | undefined,
  proposed: ClaimingService,
  others: readonly ClaimingService[],
): Contest[] => contestsIn(current, proposed, indexSelectors(others));

export const describeClaim = (claim: Contest['claim'] | Selector) =>
  claim.match === 'name'
    ? `id (service.name=${claim.value})`
    : `${claim.attribute} ${claim.match} ${claim.value}`;
