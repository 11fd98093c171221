/**
 * Which observed telemetry sources a catalog change would move to another
 * owner — pure, and by the very resolution the enricher stamps with
 * (resolve-ownership.ts), run on the services as they are and as they would be.
 *
 * An observation records the identifying attributes and those a selector
 * named when it was seen, so it may lack the attribute of a selector added
 * now. For such a selector the source is assumed to carry a value it matches:
 * whether the source carries that attribute was never recorded, and the
 * assumption errs towards the current owner.
 */
import type { Selector } from '#shared/catalog/entity-schemas';
import { compileGlob } from '#shared/matching/glob';
import type { ObservedSource } from '#shared/ownership/observed-sources';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { type CatalogSnapshot, resolveOwnership } from '#shared/ownership/resolve-ownership';
import type { ClaimingService } from '#shared/ownership/selector-claims';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import { identifyingAttributes } from '#shared/ownership/source-tracker';

export interface OwnerChange {
  source: ObservedSource;
  /** Who owns it with the catalog as it is. */
  from: string;
  /** Who would own it after the change (undefined: nobody). */
  to: string | undefined;
}

/** Services alone are enough to say who owns a source; teams and the rest only add context. */
export function servicesSnapshot(services: readonly ClaimingService[]): CatalogSnapshot {
  const byId = new Map(services.map((s) => [s.id, { team: '', ...s }]));
  const matcher = compileSelectors(services.map((s) => ({ id: s.id, selectors: s.selectors ?? [] })));
  return {
    service: (id) => byId.get(id),
    team: () => undefined,
    repository: () => undefined,
    environment: () => undefined,
    selectors: () => matcher,
  };
}

const ownerIn = (attributes: SourceAttributes, catalog: CatalogSnapshot) => {
  const result = resolveOwnership(attributes, catalog);
  return result.status === 'owned' ? result.match.service : undefined;
};

/** A value the selector matches: its text, with a glob's `*` matching nothing and `?` one character. */
export function witness(selector: Selector): string {
  if (selector.match !== 'glob') return selector.value;
  const glob = compileGlob(selector.value);
  let text = '';
  for (let i = 0; i < glob.text.length; i++) {
    const kind = glob.kinds[i];
    if (kind === 0) text += glob.text[i];
    else if (kind === 2) text += 'x';
  }
  return text;
}

const identifying = new Set(identifyingAttributes);

/** The source with a matching value for each selector on an attribute its observation did not record. */
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

/**
 * The observed sources whose owner differs between the catalog `before` and
 * `after` a change; `added` are the selectors the change adds (see above).
 * Sources nobody owns before are not changes: taking them takes nothing.
 */
export function ownerChanges(
  observed: readonly ObservedSource[],
  before: readonly ClaimingService[],
  after: readonly ClaimingService[],
  added: readonly Selector[] = [],
): OwnerChange[] {
  // Each catalog is compiled once per call, and only when a source needs it: compiling costs
  // more than resolving thousands of sources against the result.
  if (observed.length === 0) return [];
  const was = servicesSnapshot(before);
  const owned = observed.flatMap((source) => {
    const from = ownerIn(source.attributes, was);
    return from === undefined ? [] : [{ source, from }];
  });
  if (owned.length === 0) return [];
  const will = servicesSnapshot(after);
  const changes: OwnerChange[] = [];
  for (const { source, from } of owned) {
    const to = ownerIn(assuming(source.attributes, added), will);
    if (to !== from) changes.push({ source, from, to });
  }
  return changes;
}
