/**
 * `portolan login` for people: authorization code with PKCE (S256) through a
 * one-shot loopback redirect on 127.0.0.1 (RFC 8252), or the device
 * authorization grant (RFC 8628) with `--device`; silent refresh; logout.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AccessError } from '#cli/access-error';
import { type CachedLogin, forgetLogin, saveLogin } from '#cli/login-cache';
import { oauthError, oauthRequest } from '#cli/oauth-http';
import { readLocalState } from '#shared/local/local-state';

export interface LoginTarget {
  apiUrl: string;
  issuer: string;
  clientId: string;
  caFile?: string;
}

export interface LoginOptions {
  device?: boolean;
  /**
   * The exact loopback URL to come back to, for issuers that compare redirect
   * URIs exactly (Cognito: `http://localhost:<port>/callback`, registered on the
   * app client). Without it, any free port on 127.0.0.1 (RFC 8252).
   */
  callbackUrl?: string;
  openBrowser?: boolean;
  scope?: string;
  /** How long to wait for the browser or the device approval. */
  timeoutSeconds?: number;
  say: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  device_authorization_endpoint?: string;
  revocation_endpoint?: string;
  scopes_supported?: string[];
}

/** Where a person signs in for this API: flags, then environment, then the local stack's local.json. */
export function loginTarget(
  flags: { apiUrl?: string; issuer?: string; clientId?: string },
  env: NodeJS.ProcessEnv,
): LoginTarget {
  const local = readLocalState(env);
  const apiUrl = flags.apiUrl ?? env.PORTOLAN_API_URL ?? local?.apiUrl;
  if (!apiUrl)
    throw new AccessError('no API URL: pass --api-url or set PORTOLAN_API_URL, or start the local stack');
  const isLocal = local !== undefined && local.apiUrl === apiUrl;
  const issuer = flags.issuer ?? env.PORTOLAN_ISSUER ?? (isLocal ? local.issuer : undefined);
  const clientId =
    flags.clientId ?? env.PORTOLAN_LOGIN_CLIENT_ID ?? (isLocal ? local.peopleClientId : undefined);
  if (!issuer || !clientId)
    throw new AccessError(
      `no issuer or client id to sign in to ${apiUrl}: pass --issuer (the user pool's issuer, https://cognito-idp.<region>.amazonaws.com/<UserPoolId>) and --client-id (the stack output PeopleClientId)`,
    );
  return {
    apiUrl,
    issuer,
    clientId,
    ...(isLocal && issuer === local.issuer ? { caFile: local.caFile } : {}),
  };
}

const caOf = (caFile?: string) => (caFile ? readFileSync(caFile, 'utf8') : undefined);

async function discover(issuer: string, ca?: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const answer = await oauthRequest(url, { ca }).catch((error: Error) => {
    throw new AccessError(`no OpenID configuration from ${url}: ${error.message}`);
  });
  const body = answer.body as Partial<Discovery>;
  if (
    answer.status !== 200 ||
    typeof body.authorization_endpoint !== 'string' ||
    typeof body.token_endpoint !== 'string'
  )
    throw new AccessError(`${url} is not an OpenID configuration (${answer.status})`);
  return body as Discovery;
}

/**
 * A person asks only to read: scopes grant permissions on their own, so what a
 * person may change comes from policies on their groups and teams, never from
 * a scope every employee could request. (The deployed people client allows no more.)
 */
function defaultScope(discovery: Discovery) {
  const offline = discovery.scopes_supported?.includes('offline_access') ? ['offline_access'] : [];
  return ['openid', 'email', 'profile', ...offline, 'portolan/catalog.read'].join(' ');
}

/** Where the one-shot server listens: the given loopback URL, or any free port on 127.0.0.1. */
export function loopbackCallback(callbackUrl: string | undefined) {
  if (callbackUrl === undefined) return { port: 0, path: '/callback', fixed: undefined };
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw new AccessError(`--callback-url "${callbackUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(url.hostname) || !url.port)
    throw new AccessError(
      `--callback-url must be http://localhost:<port>/<path> or http://127.0.0.1:<port>/<path> (a loopback address with its port), not "${callbackUrl}"`,
    );
  return { port: Number(url.port), path: url.pathname, fixed: url.href };
}

/** Opens the URL in the person's browser if there is one; never fails. */
function openBrowser(url: string, env: NodeJS.ProcessEnv): boolean {
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
  // rundll32 rather than `cmd /c start`: cmd would read the query string's `&` as a command separator.
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command as string, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * Waits on 127.0.0.1 (an ephemeral port) for the browser to come back with the
 * code. A request with another `state`, or none, or no code, is answered 400
 * and ignored: only the redirect of this very login ends the wait.
 */
async function awaitRedirect(state: string, timeoutSeconds: number, callbackUrl?: string) {
  const callback = loopbackCallback(callbackUrl);
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | undefined;
  const result = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const server = createServer((req, res) => {
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`${text}\n`);
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== callback.path) return reply(404, 'not found');
    const params = url.searchParams;
    if (params.get('state') !== state)
      return reply(400, 'Refused: this is not the sign-in portolan is waiting for (state mismatch).');
    const error = params.get('error');
    if (error) {
      reply(400, `Sign-in failed: ${error}. Return to the terminal.`);
      return settle?.reject(
        new AccessError(
          `the issuer refused the sign-in: ${error}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}`,
        ),
      );
    }
    const code = params.get('code');
    if (!code) return reply(400, 'Refused: no authorization code.');
    reply(200, 'Signed in to Portolan. You can close this window and return to the terminal.');
    settle?.resolve(code);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(callback.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const redirectUri = callback.fixed ?? `http://127.0.0.1:${port}/callback`;
  const timer = setTimeout(
    () =>
      settle?.reject(
        new AccessError(
          `no sign-in came back to ${redirectUri} within ${timeoutSeconds}s: run \`portolan login\` again (or \`portolan login --device\` on a machine without a browser)`,
        ),
      ),
    timeoutSeconds * 1000,
  );
  const done = result.finally(() => {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  });
  return { redirectUri, code: done };
}

interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

function toLogin(
  target: LoginTarget,
  discovery: Discovery,
  tokens: TokenAnswer,
  previous?: CachedLogin,
): CachedLogin {
  return {
    issuer: target.issuer,
    clientId: target.clientId,
    tokenEndpoint: discovery.token_endpoint,
    ...(discovery.revocation_endpoint ? { revocationEndpoint: discovery.revocation_endpoint } : {}),
    ...(target.caFile ? { caFile: target.caFile } : {}),
    accessToken: tokens.access_token,
    ...((tokens.refresh_token ?? previous?.refreshToken)
      ? { refreshToken: tokens.refresh_token ?? previous?.refreshToken }
      : {}),
    expiresAt: Math.floor(Date.now() / 1000) + Math.min(Number(tokens.expires_in ?? 3600), 24 * 3600),
  };
}

async function requestTokens(tokenEndpoint: string, form: Record<string, string>, ca?: string) {
  const answer = await oauthRequest(tokenEndpoint, { form, ca });
  if (answer.status !== 200 || typeof answer.body.access_token !== 'string') return { refused: answer };
  return { tokens: answer.body as unknown as TokenAnswer };
}

async function codeLogin(target: LoginTarget, discovery: Discovery, options: LoginOptions, ca?: string) {
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const { redirectUri, code } = await awaitRedirect(
    state,
    options.timeoutSeconds ?? 300,
    options.callbackUrl ?? (options.env.PORTOLAN_LOGIN_CALLBACK_URL || undefined),
  );
  const url = new URL(discovery.authorization_endpoint);
  for (const [key, value] of Object.entries({
    response_type: 'code',
    client_id: target.clientId,
    redirect_uri: redirectUri,
    scope: options.scope ?? defaultScope(discovery),
    state,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(key, value);
  const opened = options.openBrowser !== false && openBrowser(url.href, options.env);
  options.say(
    `${opened ? 'Opening your browser. If it does not open, visit' : 'To sign in, open this URL in a browser on this machine'}:\n\n  ${url.href}\n`,
  );
  const answer = await requestTokens(
    discovery.token_endpoint,
    {
      grant_type: 'authorization_code',
      code: await code,
      redirect_uri: redirectUri,
      client_id: target.clientId,
      code_verifier: verifier,
    },
    ca,
  );
  if (answer.refused)
    throw new AccessError(`no tokens from ${discovery.token_endpoint}: ${oauthError(answer.refused)}`);
  return answer.tokens;
}

async function deviceLogin(target: LoginTarget, discovery: Discovery, options: LoginOptions, ca?: string) {
  if (!discovery.device_authorization_endpoint)
    throw new AccessError(
      `${target.issuer} does not offer the device authorization grant: run \`portolan login\` without --device`,
    );
  const started = await oauthRequest(discovery.device_authorization_endpoint, {
    form: { client_id: target.clientId, scope: options.scope ?? defaultScope(discovery) },
    ca,
  });
  const device = started.body as {
    device_code?: string;
    user_code?: string;
    verification_uri?: string;
    verification_uri_complete?: string;
    interval?: number;
    expires_in?: number;
  };
  if (started.status !== 200 || !device.device_code || !device.user_code || !device.verification_uri)
    throw new AccessError(
      `no device code from ${discovery.device_authorization_endpoint}: ${oauthError(started)}`,
    );
  options.say(`To sign in, open ${device.verification_uri} and enter the code ${device.user_code}\n`);
  if (device.verification_uri_complete && options.openBrowser !== false)
    openBrowser(device.verification_uri_complete, options.env);
  let interval = Math.max(1, Number(device.interval ?? 5));
  const deadline =
    Date.now() + Math.min(Number(device.expires_in ?? 600), options.timeoutSeconds ?? 600) * 1000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    const answer = await requestTokens(
      discovery.token_endpoint,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
        client_id: target.clientId,
      },
      ca,
    );
    if (answer.tokens) return answer.tokens;
    const error = answer.refused.body.error;
    if (error === 'authorization_pending') continue;
    if (error === 'slow_down') {
      interval += 5;
      continue;
    }
    throw new AccessError(`the device sign-in ended: ${oauthError(answer.refused)}`);
  }
  throw new AccessError(
    `the code ${device.user_code} was not approved in time: run \`portolan login --device\` again`,
  );
}

/** Signs the person in and caches the tokens for `target.apiUrl`. */
export async function login(target: LoginTarget, options: LoginOptions): Promise<CachedLogin> {
  const ca = caOf(target.caFile);
  const discovery = await discover(target.issuer, ca);
  const tokens = options.device
    ? await deviceLogin(target, discovery, options, ca)
    : await codeLogin(target, discovery, options, ca);
  const cached = toLogin(target, discovery, tokens);
  saveLogin(options.env, target.apiUrl, cached);
  return cached;
}

/** A fresh access token from the cached login, refreshed (and the cache rewritten) when it is about to expire. */
export async function loginToken(
  env: NodeJS.ProcessEnv,
  apiUrl: string,
  cached: CachedLogin,
): Promise<string> {
  if (cached.expiresAt - 60 > Date.now() / 1000) return cached.accessToken;
  const expired = `the login to ${apiUrl} has expired`;
  if (!cached.refreshToken) throw new AccessError(`${expired}: run \`portolan login\``);
  const ca = caOf(cached.caFile);
  const answer = await requestTokens(
    cached.tokenEndpoint,
    { grant_type: 'refresh_token', refresh_token: cached.refreshToken, client_id: cached.clientId },
    ca,
  ).catch((error: Error) => {
    throw new AccessError(`${expired} and could not be refreshed (${error.message}): run \`portolan login\``);
  });
  if (answer.refused)
    throw new AccessError(
      `${expired} and could not be refreshed (${oauthError(answer.refused)}): run \`portolan login\``,
    );
  const refreshed = toLogin(
    {
      apiUrl,
      issuer: cached.issuer,
      clientId: cached.clientId,
      ...(cached.caFile ? { caFile: cached.caFile } : {}),
    },
    {
      authorization_endpoint: '',
      token_endpoint: cached.tokenEndpoint,
      ...(cached.revocationEndpoint ? { revocation_endpoint: cached.revocationEndpoint } : {}),
    },
    answer.tokens,
    cached,
  );
  saveLogin(env, apiUrl, refreshed);
  return refreshed.accessToken;
}

/** Forgets the login to `apiUrl`, revoking its refresh token where the issuer can. */
export async function logout(env: NodeJS.ProcessEnv, apiUrl: string): Promise<string> {
  const cached = forgetLogin(env, apiUrl);
  if (!cached) return `not logged in to ${apiUrl}`;
  if (!cached.refreshToken || !cached.revocationEndpoint) return `logged out of ${apiUrl}`;
  const revoked = await oauthRequest(cached.revocationEndpoint, {
    form: { token: cached.refreshToken, token_type_hint: 'refresh_token', client_id: cached.clientId },
    ca: caOf(cached.caFile),
  }).catch((error: Error) => ({ status: 0, body: { error: error.message } }));
  return revoked.status === 200
    ? `logged out of ${apiUrl} (refresh token revoked)`
    : `logged out of ${apiUrl}; the issuer did not revoke the refresh token (${oauthError(revoked)})`;
}

/** The person a token names, for the message after login (the API verifies the token, not this). */
export function describeToken(accessToken: string): string {
  try {
    const claims = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const who = String(claims.email ?? claims.name ?? claims.username ?? claims.sub ?? 'unknown');
    const groups = Array.isArray(claims.groups) ? ` (groups: ${claims.groups.join(', ')})` : '';
    return `${who}${groups}`;
  } catch {
    return 'an opaque token';
  }
}
