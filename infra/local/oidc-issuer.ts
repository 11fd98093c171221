/**
 * A real OpenID Connect issuer (`oidc-provider`) standing in for Cognito: HTTPS
 * with the dev CA, discovery, JWKS, and a client-credentials token endpoint that
 * issues RS256 JWT access tokens shaped like Cognito's (`client_id`, a
 * space-separated `scope`, `sub`, `aud`, `exp`, `iat`, `jti`).
 *
 * People sign in too (infra/local/people-login.ts): authorization code with
 * PKCE (S256) and the device authorization grant for the public `portolan-cli`
 * client, refresh tokens (rotated on use), revocation. Their access tokens carry
 * `groups`, `email`, `name` and `token_use`, as Cognito's after the deployed
 * pre-token-generation trigger.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import Provider, { errors } from 'oidc-provider';
import { writeFileAtomic } from '#infra/local/atomic-file';
import {
  devicePages,
  generateDevUsers,
  handleInteraction,
  type LocalUser,
  peopleClientMetadata,
  personClaims,
  renderError,
} from '#infra/local/people-login';
import { portolanScopes } from '#shared/auth/principal';

import type { LocalClient, LocalClientName } from '#shared/local/local-state';

export type { LocalClient, LocalClientName };

export const localClientScopes: Record<LocalClientName, string[]> = {
  ci: ['portolan/catalog.read', 'portolan/catalog.write'],
  admin: [...portolanScopes],
  reader: ['portolan/catalog.read', 'portolan/audit.read'],
};

/** The API's resource indicator; tokens carry `audience` as `aud`. */
const resourceIndicator = 'urn:portolan:api';

interface IssuerSecrets {
  /** Private signing keys (JWKS); tests mint edge-case tokens with them. */
  jwks: { keys: Record<string, unknown>[] };
  clients: Record<LocalClientName, LocalClient>;
  /** Dev users who sign in with `portolan login`. */
  users: Record<string, LocalUser>;
  /** Keys signing the issuer's session and interaction cookies. */
  cookieKeys: string[];
}

/**
 * A person's login may be granted reading only, as the deployed people client:
 * scopes grant permissions on their own, so changes come from policies on the
 * person's groups and teams, not from a scope anyone could ask for.
 */
const peopleScopes = ['portolan/catalog.read'];

/** Signing keys and client secrets: generated once, reused while the state directory lives. */
export function ensureIssuerSecrets(file: string): IssuerSecrets {
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<IssuerSecrets>;
    if (kept.users && kept.cookieKeys) return kept as IssuerSecrets;
    // Written before people could sign in: keep the keys and clients, add the rest.
    const completed = {
      ...kept,
      users: generateDevUsers(),
      cookieKeys: [randomBytes(32).toString('base64url')],
    };
    writeFileAtomic(file, JSON.stringify(completed, null, 2), { mode: 0o600 });
    return completed as IssuerSecrets;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  const client = (name: LocalClientName): LocalClient => ({
    clientId: `portolan-${name}`,
    clientSecret: randomBytes(24).toString('base64url'),
    scopes: localClientScopes[name],
  });
  const secrets: IssuerSecrets = {
    jwks: { keys: [jwk] },
    clients: { ci: client('ci'), admin: client('admin'), reader: client('reader') },
    users: generateDevUsers(),
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
  writeFileAtomic(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export interface LocalIssuer {
  issuer: string;
  tokenUrl: string;
  jwksUri: string;
  stop(): Promise<void>;
}

export async function startOidcIssuer(options: {
  port: number;
  audience: string;
  secrets: IssuerSecrets;
  tls: { key: string; cert: string };
}): Promise<LocalIssuer> {
  const issuer = `https://127.0.0.1:${options.port}`;
  const users = options.secrets.users;
  const userBySub = new Map(Object.values(users).map((user) => [user.sub, user]));
  const provider = new Provider(issuer, {
    clients: [
      ...Object.values(options.secrets.clients).map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: c.scopes.join(' '),
      })),
      peopleClientMetadata(peopleScopes),
    ],
    jwks: options.secrets.jwks as never,
    scopes: ['openid', 'offline_access', ...portolanScopes],
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    cookies: { keys: options.secrets.cookieKeys },
    findAccount: (_ctx, sub) => {
      const user = userBySub.get(sub);
      return user
        ? { accountId: sub, claims: () => ({ sub, email: user.email, name: user.name }) }
        : undefined;
    },
    extraTokenClaims: (_ctx, token) => {
      const user = 'accountId' in token && token.accountId ? userBySub.get(token.accountId) : undefined;
      return user ? personClaims(user) : undefined;
    },
    pkce: { required: () => true },
    // The CLI is the stack's own client: a refresh token without the consent prompt
    // that `offline_access` would otherwise need, rotated on every use (public client).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 3600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: renderError as never,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true, ...(devicePages as object) },
      // A client revokes only its own tokens.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceIndicator,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resourceIndicator) throw new errors.InvalidTarget();
          return {
            scope: portolanScopes.join(' '),
            audience: options.audience,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  const serveProvider = provider.callback();
  const server: Server = createServer(options.tls, (req, res) => {
    if (req.url?.startsWith('/interaction/'))
      handleInteraction(provider, users, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    else serveProvider(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
