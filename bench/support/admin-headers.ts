/** Request headers for a benchmark acting as the local stack's admin client. */
import { readFileSync } from 'node:fs';
import type { LocalStackState } from '#infra/local/local-stack';
import { requestAccessToken } from '#shared/auth/client-credentials';

/** A real client-credentials token of the admin client, with a JSON content type. */
export async function adminHeaders(state: LocalStackState) {
  const admin = state.clients.admin;
  const token = await requestAccessToken({
    tokenUrl: state.tokenUrl,
    clientId: admin.clientId,
    clientSecret: admin.clientSecret,
    scope: admin.scopes.join(' '),
    ca: readFileSync(state.caFile, 'utf8'),
  });
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}
