/** A tiny HTTP client for API tests: real requests to the local gateway with real tokens. */
import { randomUUID } from 'node:crypto';
import { readLocalStack, tokenFor } from '../../support/local-stack.ts';

export const state = readLocalStack();
const tokens = new Map<string, Promise<string>>();

export type Client = 'ci' | 'admin' | 'reader';

export const token = (client: Client) => {
  let pending = tokens.get(client);
  if (!pending) {
    pending = tokenFor(state, client);
    tokens.set(client, pending);
  }
  return pending;
};

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

export async function call(
  method: string,
  path: string,
  options: { as?: Client; bearer?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const bearer = options.bearer === undefined ? await token(options.as ?? 'admin') : options.bearer;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${state.apiUrl}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** A unique id so test files sharing the local stack never collide. */
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export const teamDoc = (id: string, name = id) => ({
  id,
  name,
  contacts: { slack: `#${id}`, email: `${id}@acme.example` },
});
