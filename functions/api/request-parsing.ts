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
  if (query.cursor !== undefined) page.cursor = query.cursor;
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

/** The request body as an object; the JSON parser middleware has already parsed it. */
export function bodyObject(event: ApiEvent): Record<string, unknown> {
  const body = event.body as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problems.badRequest('the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

export function requiredQuery(event: ApiEvent, name: string, example: string): string {
  const value = event.queryStringParameters?.[name];
  if (!value) throw problems.badRequest(`query parameter ${name} is required, e.g. ?${name}=${example}`);
  return value;
}
