/**
 * Where the CLI sends requests and with which token, flags over environment:
 *
 * 1. `--token` / `PORTOLAN_TOKEN`: used as given;
 * 2. inside GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL` set, job permission
 *    `id-token: write`): the job's own OIDC token for `PORTOLAN_AUDIENCE`;
 * 3. `PORTOLAN_CLIENT_ID` + `PORTOLAN_CLIENT_SECRET` + `PORTOLAN_TOKEN_URL`
 *    (+ `PORTOLAN_SCOPE`): client credentials against Cognito or any OIDC issuer;
 * 4. a running local stack's `.portolan/local.json`: its `ci` client.
 */
import { readFileSync } from 'node:fs';
import { readLocalState } from '#infra/local/local-state';
import { requestAccessToken } from '#shared/auth/client-credentials';

/** A failure of configuration, transport or authentication: exit code 3. */
export class AccessError extends Error {
  override name = 'AccessError';
}

export interface Access {
  apiUrl: string;
  token(): Promise<string>;
  /** How the token is obtained, for messages. */
  source: string;
}

async function githubActionsToken(env: NodeJS.ProcessEnv): Promise<string> {
  const audience = env.PORTOLAN_AUDIENCE;
  if (!audience)
    throw new AccessError(
      'inside GitHub Actions: set PORTOLAN_AUDIENCE to the audience your Portolan stack trusts for token.actions.githubusercontent.com (its oidcIssuers setting)',
    );
  const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL as string);
  url.searchParams.set('audience', audience);
  const response = await fetch(url, {
    headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''}` },
  }).catch((error: Error) => {
    throw new AccessError(`could not reach GitHub's OIDC token endpoint: ${error.message}`);
  });
  if (!response.ok)
    throw new AccessError(
      `GitHub refused an OIDC token (${response.status}): give the job "permissions: id-token: write"`,
    );
  const { value } = (await response.json()) as { value?: string };
  if (!value) throw new AccessError('GitHub answered without a token');
  return value;
}

export function resolveAccess(flags: { apiUrl?: string; token?: string }, env = process.env): Access {
  const local = readLocalState(env);
  const apiUrl = flags.apiUrl ?? env.PORTOLAN_API_URL ?? local?.apiUrl;
  if (!apiUrl)
    throw new AccessError(
      'no API URL: pass --api-url or set PORTOLAN_API_URL (the stack output ApiUrl), or start the local stack with `npm start`',
    );
  const once = (get: () => Promise<string>) => {
    let pending: Promise<string> | undefined;
    return () => {
      pending ??= get();
      return pending;
    };
  };
  const given = flags.token ?? env.PORTOLAN_TOKEN;
  if (given) return { apiUrl, token: async () => given, source: flags.token ? '--token' : 'PORTOLAN_TOKEN' };
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL)
    return { apiUrl, token: once(() => githubActionsToken(env)), source: 'the GitHub Actions OIDC token' };
  const credentials = (
    clientId: string,
    clientSecret: string,
    tokenUrl: string,
    scope: string,
    ca?: string,
  ) =>
    once(() =>
      requestAccessToken({ tokenUrl, clientId, clientSecret, scope, ...(ca ? { ca } : {}) }).catch(
        (error: Error) => {
          throw new AccessError(`no token from ${tokenUrl}: ${error.message}`);
        },
      ),
    );
  if (env.PORTOLAN_CLIENT_ID || env.PORTOLAN_CLIENT_SECRET || env.PORTOLAN_TOKEN_URL) {
    const missing = ['PORTOLAN_CLIENT_ID', 'PORTOLAN_CLIENT_SECRET', 'PORTOLAN_TOKEN_URL'].filter(
      (v) => !env[v],
    );
    if (missing.length) throw new AccessError(`client credentials need ${missing.join(' and ')} too`);
    return {
      apiUrl,
      token: credentials(
        env.PORTOLAN_CLIENT_ID as string,
        env.PORTOLAN_CLIENT_SECRET as string,
        env.PORTOLAN_TOKEN_URL as string,
        env.PORTOLAN_SCOPE ?? 'portolan/catalog.read portolan/catalog.write',
      ),
      source: `client credentials of ${env.PORTOLAN_CLIENT_ID}`,
    };
  }
  if (local) {
    const ci = local.clients.ci;
    return {
      apiUrl,
      token: credentials(
        ci.clientId,
        ci.clientSecret,
        local.tokenUrl,
        ci.scopes.join(' '),
        readFileSync(local.caFile, 'utf8'),
      ),
      source: `the local stack's ${ci.clientId} client`,
    };
  }
  throw new AccessError(
    'no credentials: pass --token, run inside GitHub Actions with id-token: write, set PORTOLAN_CLIENT_ID/PORTOLAN_CLIENT_SECRET/PORTOLAN_TOKEN_URL, or start the local stack',
  );
}
