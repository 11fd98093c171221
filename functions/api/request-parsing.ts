/** Reading the parts of an API request the routes share: ids, pagination, preconditions. */
import type { ZodType } from 'zod';
import { problems } from '#shared/http/problem';
import type { ApiEvent } from '#shared/http/require-principal';
import type { VersionPrecondition } from '#shared/store/catalog-store';

/**
 * The id after the collection segment. API Gateway HTTP APIs deliver the path
 * decoded, so a repository id arrives as several segments; ids never contain `%`,
 * so a still-encoded path (other front doors) is decoded once here.
 */
export function pathId(event: ApiEvent, schema: ZodType, what: string): string {
  const raw = event.pathParameters?.proxy ?? '';
  let id = raw;
  if (raw.includes('%')) {
    try {
      id = decodeURIComponent(raw);
    } catch {
      throw problems.badRequest(`the ${what} id in the path is not valid percent-encoding`);
    }
  }
  const parsed = schema.safeParse(id);
  if (!parsed.success) {
    throw problems.badRequest(`"${id}" is not a valid ${what} id: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data as string;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export function pageRequest(event: ApiEvent, defaultLimit = 50, maxLimit = 100): PageRequest {
  const query = event.queryStringParameters ?? {};
  const page: PageRequest = { limit: defaultLimit };
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      throw problems.badRequest(`limit must be a whole number from 1 to ${maxLimit}`);
    }
    page.limit = limit;
  }
  if (query.cursor !== undefined) {
    // An empty cursor is no page this API ended on; silently starting over could loop a client forever.
    if (query.cursor === '')
      throw problems.badRequest('cursor is empty: omit it to start from the first page');
    page.cursor = query.cursor;
  }
  return page;
}

/** `If-Match: "7"` → 7, `If-None-Match: *` → absent; a tag that is no version can never match. */
export function versionPrecondition(event: ApiEvent): VersionPrecondition {
  const ifMatch = event.headers['if-match'];
  const ifNoneMatch = event.headers['if-none-match'];
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw problems.badRequest('send either If-Match or If-None-Match, not both');
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*')
      throw problems.badRequest('If-None-Match supports only "*" (create only)');
    return 'absent';
  }
  if (ifMatch === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(ifMatch);
  if (!match?.[1]) throw problems.preconditionFailed(`If-Match ${ifMatch} is not an ETag this API returned`);
  return Number(match[1]);
}

export const etag = (version: number) => `"${version}"`;

/**
 * The request body as an object; the JSON parser middleware has already parsed it.
 * JSON may escape half of a UTF-16 surrogate pair (`"\ud800"`), which no UTF-8
 * store can keep: such a string is refused, naming the field.
 */
export function bodyObject(event: ApiEvent): Record<string, unknown> {
  const body = event.body as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problems.badRequest('the body must be a JSON object');
  }
  const broken = firstLoneSurrogate(body);
  if (broken !== undefined) {
    const detail = `${broken.what} contains a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape), which is not text`;
    throw problems.validation(`The request body is invalid: ${broken.pointer}: ${detail}`, [
      { pointer: broken.pointer, detail },
    ]);
  }
  return body as Record<string, unknown>;
}

/** The body of a `PUT` to `id`: it may omit `id`, but may not contradict the path. */
export function withPathId(
  body: Record<string, unknown>,
  id: string,
): Record<string, unknown> & { id: string } {
  if (body.id !== undefined && body.id !== id) {
    throw problems.badRequest(`the body's id "${String(body.id)}" differs from the path's id "${id}"`);
  }
  return { ...body, id };
}

/** With the `u` flag a paired surrogate is one code point, so this matches only lone ones. */
const loneSurrogate = /[\uD800-\uDFFF]/u;

const pointerToken = (key: string | number) => String(key).replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The JSON Pointer of the first key or string value holding a lone surrogate.
 * Iterative: a 256 KiB body can nest far deeper than the call stack allows.
 */
function firstLoneSurrogate(root: object): { pointer: string; what: string } | undefined {
  const pending: [value: unknown, pointer: string, key: string | number][] = [[root, '', '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, pointer, key] = next;
    if (typeof key === 'string' && loneSurrogate.test(key)) return { pointer, what: 'the key' };
    if (typeof value === 'string') {
      if (loneSurrogate.test(value)) return { pointer, what: 'the value' };
    } else if (typeof value === 'object' && value !== null) {
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [childKey, child] = entries[i] as readonly [string | number, unknown];
        pending.push([child, `${pointer}/${pointerToken(childKey)}`, childKey]);
      }
    }
  }
  return undefined;
}

export function requiredQuery(event: ApiEvent, name: string, example: string): string {
  const value = event.queryStringParameters?.[name];
  if (!value) throw problems.badRequest(`query parameter ${name} is required, e.g. ?${name}=${example}`);
  return value;
}
