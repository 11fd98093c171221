/**
 * People on the local issuer: dev users in groups (passwords generated at first
 * start), the `portolan-cli` public client, and the login pages of the
 * issuer's interactions. Plain HTML; everything interpolated is escaped.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { LocalUser } from '#shared/local/local-state';

export type { LocalUser };

/** The people app client: public (no secret), PKCE, loopback redirects on any port (RFC 8252 §7.3). */
export const peopleClientId = 'portolan-cli';

/** Every dev user and the one group each is in, `<idp>:<group>` with the idp `local`. */
const devUsers: Record<string, { group: string; name: string }> = {
  alice: { group: 'local:payments-eng', name: 'Alice Example' },
  bob: { group: 'local:search-eng', name: 'Bob Example' },
  ada: { group: 'local:portolan-admins', name: 'Ada Example' },
};

export function generateDevUsers(): Record<string, LocalUser> {
  return Object.fromEntries(
    Object.entries(devUsers).map(([username, { group, name }]) => [
      username,
      {
        sub: randomUUID(),
        password: randomBytes(18).toString('base64url'),
        groups: [group],
        email: `${username}@portolan.local`,
        name,
      },
    ]),
  );
}

export const peopleClientMetadata = (scopes: string[]) => ({
  client_id: peopleClientId,
  client_name: 'Portolan CLI',
  application_type: 'native' as const,
  token_endpoint_auth_method: 'none' as const,
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code' as const],
  redirect_uris: ['http://127.0.0.1/callback'],
  scope: ['openid', 'email', 'profile', 'offline_access', ...scopes].join(' '),
});

/** The claims a person's access token carries, as the deployed pre-token trigger shapes them. */
export const personClaims = (user: LocalUser) => ({
  groups: [...user.groups],
  email: user.email,
  name: user.name,
  token_use: 'access',
});

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export const page = (title: string, body: string) =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

const maxFormBytes = 4096;

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > maxFormBytes) {
        reject(new Error(`form larger than ${maxFormBytes} bytes`));
        req.destroy();
      }
    });
    req.on('end', () => resolve(new URLSearchParams(text)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; form-action 'self'",
  });
  res.end(html);
}

const loginForm = (uid: string, message?: string) =>
  page(
    'Sign in to Portolan (local)',
    `${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}<form method="post" action="/interaction/${escapeHtml(uid)}/login"><label>Username <input name="username" autocomplete="username" autofocus></label> <label>Password <input name="password" type="password" autocomplete="current-password"></label> <button type="submit">Sign in</button></form><p>The users and their passwords are in <code>.portolan/local.json</code>.</p>`,
  );

/**
 * Serves `/interaction/<uid>` (the login form) and `/interaction/<uid>/login`
 * (its submission). Consent is implied: `portolan-cli` is the stack's own client.
 */
export async function handleInteraction(
  provider: Provider,
  users: Record<string, LocalUser>,
  req: IncomingMessage,
  res: ServerResponse,
) {
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    return send(res, 400, page('Sign-in expired', '<p>Start again from the command line.</p>'));
  }
  const { uid, prompt, params } = details;
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ??
        new provider.Grant({ accountId: details.session?.accountId, clientId: String(params.client_id) }))
      : new provider.Grant({ accountId: details.session?.accountId, clientId: String(params.client_id) });
    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
  if (req.method !== 'POST') return send(res, 200, loginForm(uid));
  let form: URLSearchParams;
  try {
    form = await readForm(req);
  } catch {
    return send(res, 413, page('Sign-in refused', '<p>The form was too large.</p>'));
  }
  const username = form.get('username') ?? '';
  const user = Object.hasOwn(users, username) ? users[username] : undefined;
  if (!user || !sameSecret(form.get('password') ?? '', user.password))
    return send(res, 401, loginForm(uid, 'Unknown user or wrong password.'));
  return provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.sub } },
    { mergeWithLastSubmission: false },
  );
}

/** The device flow's pages (user code input, confirmation, success), minimal and escaped. */
export const devicePages = {
  userCodeInputSource: async (ctx: { body: unknown }, form: string, _out: unknown, err: unknown) => {
    ctx.body = page(
      'Sign in a device',
      `${err ? '<p role="alert">That code is not valid. Try again.</p>' : '<p>Enter the code shown by <code>portolan login --device</code>.</p>'}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
    );
  },
  userCodeConfirmSource: async (
    ctx: { body: unknown },
    form: string,
    _client: unknown,
    _deviceInfo: unknown,
    userCode: string,
  ) => {
    ctx.body = page(
      'Confirm the device',
      `<p>Check that the device shows <code>${escapeHtml(userCode)}</code>.</p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button> <button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
    );
  },
  successSource: async (ctx: { body: unknown }) => {
    ctx.body = page('Signed in', '<p>You can close this window and return to the command line.</p>');
  },
};

export const renderError = async (
  ctx: { type: string; body: unknown },
  out: { error?: string; error_description?: string },
) => {
  ctx.type = 'html';
  ctx.body = page(
    'Sign-in error',
    `<p>${escapeHtml(`${out.error ?? 'error'}: ${out.error_description ?? ''}`)}</p>`,
  );
};
