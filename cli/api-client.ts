/** Calls to the Portolan API with the caller's token; a problem answer becomes an `ApiProblem`. */
import { AccessError } from '#cli/access-error';
import type { Access } from '#cli/credentials';

/** The API answered with an RFC 9457 problem (4xx/5xx). */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly payload: Record<string, unknown>,
  ) {
    super(`the API answered ${status}`);
  }
}

export type ApiCall = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

export function apiClient(access: Access): ApiCall {
  return async (method, path, body) => {
    const token = await access.token();
    const response = await fetch(`${access.apiUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).catch((error: Error) => {
      throw new AccessError(
        `cannot reach ${access.apiUrl}: ${(error.cause as Error)?.message ?? error.message}`,
      );
    });
    const text = await response.text();
    let payload: Record<string, unknown> = {};
    try {
      if (text) payload = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Not Portolan answering (a proxy, a wrong URL): say so rather than fail on its page.
      throw new AccessError(
        `${access.apiUrl} answered ${response.status} with something that is not JSON: is it the Portolan API? (${text.slice(0, 80).replace(/\s+/g, ' ')})`,
      );
    }
    if (!response.ok) throw new ApiProblem(response.status, payload);
    return payload;
  };
}
