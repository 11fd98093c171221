/**
 * IAM-style wildcards: `*` matches any run of characters (slashes included, as in
 * IAM resource ARNs) and `?` exactly one. Everything else is literal, so an id such
 * as `github.com/acme/x` needs no escaping. Compiled patterns are cached because
 * policies and selectors test the same few patterns on every request or record.
 */
const compiled = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let regexp = compiled.get(pattern);
  if (!regexp) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    regexp = new RegExp(`^${source}$`, 's');
    // Patterns with token substitutions differ per caller: keep the cache bounded.
    if (compiled.size >= 1_000) compiled.clear();
    compiled.set(pattern, regexp);
  }
  return regexp;
}

export const globMatches = (pattern: string, value: string): boolean =>
  pattern === '*' || globToRegExp(pattern).test(value);

/** Characters of the pattern that are not wildcards: the more, the more specific the pattern. */
export const literalLength = (pattern: string): number => pattern.replace(/[*?]/g, '').length;
