/**
 * JSON compared by meaning, not by text: RFC 8785 canonical JSON gives the same
 * bytes for the same value whatever its key order, so one serialisation serves
 * both the audit hashes and every "is this document unchanged?" question.
 */
import canonicalize from 'canonicalize';

/** RFC 8785 canonical JSON of `value` (`null` for what JSON cannot represent, e.g. `undefined`). */
export const canonicalJson = (value: unknown): string => canonicalize(value) ?? 'null';

/**
 * Equal as JSON values, ignoring key order. An absent value (`undefined`) equals
 * only another absent one, so a field set to `null` still counts as a change.
 */
export const sameJson = (a: unknown, b: unknown): boolean =>
  a === b || (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b));
