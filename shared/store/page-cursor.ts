/**
 * Opaque pagination cursors: DynamoDB's LastEvaluatedKey, reduced to the one
 * value that varies within a partition and base64url-encoded. Decoding checks
 * the value as DynamoDB would take it as a key, so a tampered cursor is a 400,
 * never a DynamoDB validation error.
 */
import { StoreError } from '#shared/store/catalog-store';

/** DynamoDB's limit on a sort key, in UTF-8 bytes. */
const maxSortKeyBytes = 1024;
/** With the `u` flag a paired surrogate is one code point, so this matches only lone ones. */
const loneSurrogate = /[\uD800-\uDFFF]/u;

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

const isKeyString = (k: unknown): k is string =>
  typeof k === 'string' &&
  k.length > 0 &&
  Buffer.byteLength(k, 'utf8') <= maxSortKeyBytes &&
  !loneSurrogate.test(k);

/** Sequence numbers count from 1; anything else (1e308, -1, 1.5) no page ever ended on. */
const isKeyNumber = (k: unknown): k is number => Number.isSafeInteger(k) && (k as number) >= 1;

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string,
  type: T,
): T extends 'string' ? string : number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    const k = parsed?.k;
    if (type === 'string' ? isKeyString(k) : isKeyNumber(k)) return k as T extends 'string' ? string : number;
  } catch {
    // fall through: any undecodable cursor is the caller's error
  }
  throw new StoreError('bad-cursor', 'cursor is not one this API returned; start again without it');
}
