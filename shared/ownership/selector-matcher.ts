/**
 * All services' selectors compiled into one matcher, built once per cache TTL:
 * exact selectors are a hash lookup per attribute, prefixes and globs are
 * checked per attribute the selectors name. Most specific wins:
 *   1. exact, then prefix, then glob;
 *   2. among prefixes the longest, among globs the one with most literal characters;
 *   3. then the service id, alphabetically (stable, so a record never flips owner).
 */
import { compileGlob, type Glob, literalLength, matchGlob } from '#shared/matching/glob';
import type { OwnershipMatch, SourceAttributes } from '#shared/ownership/ownership-context';

export interface ServiceSelectors {
  id: string;
  selectors: { attribute: string; match: 'exact' | 'prefix' | 'glob'; value: string }[];
}

interface Candidate {
  service: string;
  attribute: string;
  match: 'exact' | 'prefix' | 'glob';
  value: string;
  rank: number;
  specificity: number;
  glob?: Glob;
}

export const rankOf = { exact: 3, prefix: 2, glob: 1 } as const;

/** Within one rank, the longer prefix or the glob with more literal characters is more specific. */
export const selectorSpecificity = (selector: { match: 'exact' | 'prefix' | 'glob'; value: string }) =>
  selector.match === 'glob' ? literalLength(selector.value) : selector.value.length;

export interface SelectorMatcher {
  match(attributes: SourceAttributes): OwnershipMatch | undefined;
  readonly size: number;
  /** Every attribute some selector looks at. */
  readonly attributes: ReadonlySet<string>;
}

export function compileSelectors(services: ServiceSelectors[]): SelectorMatcher {
  const exact = new Map<string, Map<string, Candidate>>();
  const patterns = new Map<string, Candidate[]>();
  let size = 0;
  for (const service of services) {
    for (const selector of service.selectors) {
      size++;
      const candidate: Candidate = {
        service: service.id,
        ...selector,
        rank: rankOf[selector.match],
        specificity: selectorSpecificity(selector),
        ...(selector.match === 'glob' ? { glob: compileGlob(selector.value) } : {}),
      };
      if (selector.match === 'exact') {
        const byValue = exact.get(selector.attribute) ?? new Map<string, Candidate>();
        const existing = byValue.get(selector.value);
        if (!existing || service.id < existing.service) byValue.set(selector.value, candidate);
        exact.set(selector.attribute, byValue);
      } else {
        const list = patterns.get(selector.attribute);
        if (list) list.push(candidate);
        else patterns.set(selector.attribute, [candidate]);
      }
    }
  }

  return {
    size,
    attributes: new Set([...exact.keys(), ...patterns.keys()]),
    match(attributes) {
      let best: Candidate | undefined;
      for (const [attribute, raw] of Object.entries(attributes)) {
        const byValue = exact.get(attribute);
        const candidates = patterns.get(attribute);
        if (!byValue && !candidates) continue;
        for (const value of Array.isArray(raw) ? raw : [raw])
          best = bestFor(value, byValue?.get(value), candidates, best);
      }
      return best ? matchOf(best) : undefined;
    },
  };
}

/** Whether `a` is more specific than `b` (rank, then specificity, then the service id). */
const better = (a: Candidate, b: Candidate | undefined) =>
  !b ||
  a.rank > b.rank ||
  (a.rank === b.rank &&
    (a.specificity > b.specificity || (a.specificity === b.specificity && a.service < b.service)));

/** The better of `best` and what one attribute value matches: its exact selector `hit`, its prefixes and globs. */
function bestFor(
  value: string,
  hit: Candidate | undefined,
  candidates: Candidate[] | undefined,
  best: Candidate | undefined,
): Candidate | undefined {
  let found = hit && better(hit, best) ? hit : best;
  for (const candidate of candidates ?? []) {
    if (!better(candidate, found)) continue;
    const matches = candidate.glob ? matchGlob(candidate.glob, value) : value.startsWith(candidate.value);
    if (matches) found = candidate;
  }
  return found;
}

const matchOf = (best: Candidate): OwnershipMatch => ({
  rule: 'selector',
  service: best.service,
  attribute: best.attribute,
  match: best.match,
  value: best.value,
});
