/**
 * A real OpenID Connect issuer (`oidc-provider`) standing in for Cognito: HTTPS
 * with the dev CA, discovery, JWKS, and a client-credentials token endpoint that
 * issues RS256 JWT access tokens shaped like Cognito's (`client_id`, a
 * space-separated `scope`, `sub`, `aud`, `exp`, `iat`, `jti`).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import Provider, { errors } from 'oidc-provider';
import { writeFileAtomic } from '#infra/local/atomic-file';
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
}

/** Signing keys and client secrets: generated once, reused while the state directory lives. */
export function ensureIssuerSecrets(file: string): IssuerSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as IssuerSecrets;
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
  const provider = new Provider(issuer, {
    clients: Object.values(options.secrets.clients).map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: c.scopes.join(' '),
    })),
    jwks: options.secrets.jwks as never,
    scopes: [...portolanScopes],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
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
  const server: Server = createServer(options.tls, provider.callback());
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
