/**
 * Opaque pagination cursors: DynamoDB's LastEvaluatedKey, reduced to the one
 * value that varies within a partition and base64url-encoded. Decoding checks
 * the shape, so a tampered cursor is a 400, never a DynamoDB validation error.
 */
import { StoreError } from '#shared/store/catalog-store';

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string,
  type: T,
): T extends 'string' ? string : number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === type) return parsed.k as T extends 'string' ? string : number;
  } catch {
    // fall through: any undecodable cursor is the caller's error
  }
  throw new StoreError('bad-cursor', 'cursor is not one this API returned; start again without it');
}
