/**
 * Where the CLI sends requests and with which token, flags over environment:
 *
 * 1. `--token` / `PORTOLAN_TOKEN`: used as given;
 * 2. `PORTOLAN_CLIENT_ID` + `PORTOLAN_CLIENT_SECRET` + `PORTOLAN_TOKEN_URL`
 *    (+ `PORTOLAN_SCOPE`): client credentials against Cognito or any OIDC issuer;
 * 3. inside a CI that gives jobs an OIDC token (GitHub Actions, GitLab CI,
 *    CircleCI, Buildkite, Bitbucket Pipelines, Azure Pipelines): the job's own
 *    token (cli/ci-identity.ts);
 * 4. a person's cached login to this API (`portolan login`), refreshed when it expires;
 * 5. a running local stack's `.portolan/local.json`: its `ci` client.
 *
 * Explicit client credentials come before the CI's identity because some CIs
 * hand every job a token whether or not Portolan is meant to use it.
 */
import { readFileSync } from 'node:fs';
import { AccessError } from '#cli/access-error';
import { detectCiIdentity } from '#cli/ci-identity';
import { loginToken } from '#cli/login';
import { cachedLogin } from '#cli/login-cache';
import { requestAccessToken } from '#shared/auth/client-credentials';
import { readLocalState } from '#shared/local/local-state';

export { AccessError };

export interface Access {
  apiUrl: string;
  token(): Promise<string>;
  /** How the token is obtained, for messages. */
  source: string;
}

const once = (get: () => Promise<string>) => {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= get();
    return pending;
  };
};

function clientCredentials(
  clientId: string,
  clientSecret: string,
  tokenUrl: string,
  scope: string,
  ca?: string,
) {
  return once(() =>
    requestAccessToken({ tokenUrl, clientId, clientSecret, scope, ...(ca ? { ca } : {}) }).catch(
      (error: Error) => {
        throw new AccessError(`no token from ${tokenUrl}: ${error.message}`);
      },
    ),
  );
}

export function resolveAccess(flags: { apiUrl?: string; token?: string }, env = process.env): Access {
  const local = readLocalState(env);
  const apiUrl = flags.apiUrl ?? env.PORTOLAN_API_URL ?? local?.apiUrl;
  if (!apiUrl)
    throw new AccessError(
      'no API URL: pass --api-url or set PORTOLAN_API_URL (the stack output ApiUrl), or start the local stack with `npm start`',
    );
  const given = flags.token ?? env.PORTOLAN_TOKEN;
  if (given) return { apiUrl, token: async () => given, source: flags.token ? '--token' : 'PORTOLAN_TOKEN' };
  if (env.PORTOLAN_CLIENT_ID || env.PORTOLAN_CLIENT_SECRET || env.PORTOLAN_TOKEN_URL) {
    const missing = ['PORTOLAN_CLIENT_ID', 'PORTOLAN_CLIENT_SECRET', 'PORTOLAN_TOKEN_URL'].filter(
      (v) => !env[v],
    );
    if (missing.length) throw new AccessError(`client credentials need ${missing.join(' and ')} too`);
    return {
      apiUrl,
      token: clientCredentials(
        env.PORTOLAN_CLIENT_ID as string,
        env.PORTOLAN_CLIENT_SECRET as string,
        env.PORTOLAN_TOKEN_URL as string,
        env.PORTOLAN_SCOPE ?? 'portolan/catalog.read portolan/catalog.write',
      ),
      source: `client credentials of ${env.PORTOLAN_CLIENT_ID}`,
    };
  }
  const ci = detectCiIdentity(env);
  if (ci) return { apiUrl, token: once(ci.token), source: ci.name };
  const login = cachedLogin(env, apiUrl);
  if (login)
    return {
      apiUrl,
      token: once(() => loginToken(env, apiUrl, login)),
      source: 'your login (portolan login)',
    };
  if (local) {
    const client = local.clients.ci;
    return {
      apiUrl,
      token: clientCredentials(
        client.clientId,
        client.clientSecret,
        local.tokenUrl,
        client.scopes.join(' '),
        readFileSync(local.caFile, 'utf8'),
      ),
      source: `the local stack's ${client.clientId} client`,
    };
  }
  throw new AccessError(
    'no credentials: pass --token, run in a CI job with an OIDC token (GitHub Actions, GitLab CI, CircleCI, Buildkite, Bitbucket Pipelines, Azure Pipelines), set PORTOLAN_CLIENT_ID/PORTOLAN_CLIENT_SECRET/PORTOLAN_TOKEN_URL, run `portolan login`, or start the local stack',
  );
}
