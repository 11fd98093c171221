/**
 * IAM-style wildcards: `*` matches any run of characters (slashes included, as in
 * IAM resource ARNs) and `?` exactly one. Everything else is literal, so an id such
 * as `github.com/acme/x` needs no escaping. The one glob implementation of
 * Portolan: selectors, policy actions, resources and `StringLike` all use it.
 *
 * Matching never backtracks more than to the last `*` seen, so it takes at most
 * pattern × value steps, whatever the pattern (`*a*a*a*a*!` against 1,024
 * characters is ~10,000 steps; a backtracking regular expression takes minutes).
 * A compiled glob keeps, per character, whether it is a wildcard, so that text
 * substituted into a pattern (a token claim) can stay literal even when it
 * contains `*` or `?`.
 */

const literal = 0;
const anyRun = 1;
const anyOne = 2;

export interface Glob {
  readonly text: string;
  /** Per UTF-16 unit of `text`: literal, `*` or `?`. */
  readonly kinds: Uint8Array;
  /** Without `?`: the literal runs between the stars, matched with native string search. */
  readonly segments: readonly string[] | undefined;
}

const kindOf = (c: string) => (c === '*' ? anyRun : c === '?' ? anyOne : literal);

/** Compiles a pattern whose `*` and `?` are wildcards; pieces may be added as literals with {@link globOf}. */
export const compileGlob = (pattern: string): Glob => globOf([{ text: pattern, wildcards: true }]);

/** A glob from pieces: wildcard pieces come from a policy author, literal pieces from a token. */
export function globOf(pieces: readonly { text: string; wildcards: boolean }[]): Glob {
  const text = pieces.map((p) => p.text).join('');
  const kinds = new Uint8Array(text.length);
  let at = 0;
  for (const piece of pieces) {
    if (piece.wildcards)
      for (let i = 0; i < piece.text.length; i++) kinds[at + i] = kindOf(piece.text[i] as string);
    at += piece.text.length;
  }
  // One object shape for both kinds of glob keeps the property reads monomorphic.
  return { text, kinds, segments: kinds.includes(anyOne) ? undefined : segmentsOf(text, kinds) };
}

function segmentsOf(text: string, kinds: Uint8Array): string[] {
  const segments: string[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || kinds[i] === anyRun) {
      segments.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return segments;
}

/**
 * Star-only globs (most selectors and policies): the first run must start the
 * value, the last end it, and each one between is taken at its leftmost
 * occurrence after the previous, which leaves the most room for the rest.
 */
function matchSegments(segments: readonly string[], value: string): boolean {
  const first = segments[0] as string;
  if (segments.length === 1) return value === first;
  const last = segments[segments.length - 1] as string;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last))
    return false;
  const end = value.length - last.length;
  let at = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    const found = value.indexOf(segment, at);
    if (found < 0 || found + segment.length > end) return false;
    at = found + segment.length;
  }
  return true;
}

/** Whether the glob matches the whole value; at most |glob| × |value| steps. */
export function matchGlob(glob: Glob, value: string): boolean {
  if (glob.segments) return matchSegments(glob.segments, value);
  const { text, kinds } = glob;
  const n = text.length;
  const m = value.length;
  let p = 0;
  let s = 0;
  // The last `*` seen and where in the value it started: on a mismatch, it swallows one more character.
  let star = -1;
  let starAt = 0;
  while (s < m) {
    const kind = kinds[p];
    if (p < n && kind !== anyRun && (kind === anyOne || text.charCodeAt(p) === value.charCodeAt(s))) {
      p++;
      s++;
    } else if (p < n && kind === anyRun) {
      star = p++;
      starAt = s;
    } else if (star >= 0) {
      p = star + 1;
      s = ++starAt;
    } else return false;
  }
  while (p < n && kinds[p] === anyRun) p++;
  return p === n;
}

/**
 * Whether some value matches both globs (two selectors could claim the same
 * telemetry). Walks the pairs of positions the two patterns can be in at once,
 * |a| × |b| of them, each visited once; returns a witness value when there is one.
 */
export function globsIntersect(a: Glob, b: Glob): string | undefined {
  if (!literalEndsAgree(a, b)) return undefined;
  const n = a.text.length;
  const m = b.text.length;
  const width = m + 1;
  const seen = new Uint8Array((n + 1) * width);
  // For each visited pair: the pair it was reached from, and the character consumed (-1: none).
  const from = new Int32Array((n + 1) * width).fill(-1);
  const consumed = new Int32Array((n + 1) * width).fill(-1);
  const stack = [0];
  seen[0] = 1;
  const visit = (i: number, j: number, previous: number, char: number) => {
    const key = i * width + j;
    if (seen[key]) return;
    seen[key] = 1;
    from[key] = previous;
    consumed[key] = char;
    stack.push(key);
  };
  while (stack.length) {
    const key = stack.pop() as number;
    const i = Math.floor(key / width);
    const j = key % width;
    if (i === n && j === m) return witness(key, from, consumed);
    const ka = i < n ? a.kinds[i] : undefined;
    const kb = j < m ? b.kinds[j] : undefined;
    if (ka === anyRun) visit(i + 1, j, key, -1);
    if (kb === anyRun) visit(i, j + 1, key, -1);
    if (ka === undefined || kb === undefined) continue;
    const char = sharedCharacter(a, i, b, j);
    if (char === undefined) continue;
    visit(ka === anyRun ? i : i + 1, kb === anyRun ? j : j + 1, key, char);
  }
  return undefined;
}

/**
 * Whether the literal characters before the first wildcard, and after the
 * last, agree where both globs have them: a cheap refusal that spares most
 * pairs of real selectors (`search-*` and `checkout-*`) the full walk.
 */
function literalEndsAgree(a: Glob, b: Glob): boolean {
  const n = a.text.length;
  const m = b.text.length;
  for (let i = 0; i < n && i < m && a.kinds[i] === literal && b.kinds[i] === literal; i++)
    if (a.text.charCodeAt(i) !== b.text.charCodeAt(i)) return false;
  for (let i = 1; i <= n && i <= m && a.kinds[n - i] === literal && b.kinds[m - i] === literal; i++)
    if (a.text.charCodeAt(n - i) !== b.text.charCodeAt(m - i)) return false;
  return true;
}

/** A character both positions accept, if any (a wildcard accepts any; `x` stands for "any"). */
function sharedCharacter(a: Glob, i: number, b: Glob, j: number): number | undefined {
  const la = a.kinds[i] === literal;
  const lb = b.kinds[j] === literal;
  if (la && lb) return a.text.charCodeAt(i) === b.text.charCodeAt(j) ? a.text.charCodeAt(i) : undefined;
  if (la) return a.text.charCodeAt(i);
  if (lb) return b.text.charCodeAt(j);
  return 0x78;
}

function witness(end: number, from: Int32Array, consumed: Int32Array): string {
  const chars: number[] = [];
  for (let key = end; key > 0; key = from[key] as number) {
    const char = consumed[key] as number;
    if (char >= 0) chars.push(char);
  }
  return String.fromCharCode(...chars.reverse());
}

/** Compiled patterns are cached: policies and selectors test the same few on every request or record. */
const compiled = new Map<string, Glob>();

function cachedGlob(pattern: string): Glob {
  let glob = compiled.get(pattern);
  if (!glob) {
    glob = compileGlob(pattern);
    // Bounded: stored policies and selectors are few, but a cache must not grow with its callers.
    if (compiled.size >= 1_000) compiled.clear();
    compiled.set(pattern, glob);
  }
  return glob;
}

export const globMatches = (pattern: string, value: string): boolean =>
  pattern === '*' || matchGlob(cachedGlob(pattern), value);

/** Characters of the glob that are not wildcards: the more, the more specific the pattern. */
export const literalLength = (glob: Glob | string): number => {
  const { kinds } = typeof glob === 'string' ? cachedGlob(glob) : glob;
  let count = 0;
  for (const kind of kinds) if (kind === literal) count++;
  return count;
};
