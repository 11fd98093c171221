/**
 * The running local stack, as the tests see it: its state file (from
 * `PORTOLAN_LOCAL_STATE`, set by `npm test`), real tokens from its issuer, and
 * hand-made tokens signed with the issuer's real key for edge cases.
 */
import { createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LocalStackState } from '#infra/local/local-stack';
import type { LocalClientName } from '#infra/local/oidc-issuer';
import { requestAccessToken } from '#shared/auth/client-credentials';

export type { LocalStackState };

export function readLocalStack(): LocalStackState {
  const statePath = process.env.PORTOLAN_LOCAL_STATE;
  if (!statePath) throw new Error('PORTOLAN_LOCAL_STATE is not set: run the tests with `npm test`');
  return JSON.parse(readFileSync(statePath, 'utf8')) as LocalStackState;
}

/** A real client-credentials token from the local issuer. */
export function tokenFor(
  state: LocalStackState,
  client: LocalClientName,
  scopes?: string[],
): Promise<string> {
  const credentials = state.clients[client];
  return requestAccessToken({
    tokenUrl: state.tokenUrl,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    scope: (scopes ?? credentials.scopes).join(' '),
    ca: readFileSync(state.caFile, 'utf8'),
  });
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface MintOptions {
  /** Header fields to add or override (`alg`, `kid`, ...). */
  header?: Record<string, unknown>;
  /** Sign with another private key (PEM or KeyObject-compatible) instead of the issuer's. */
  privateKey?: Parameters<ReturnType<typeof createSign>['sign']>[0];
}

/** The issuer's private signing key, so tests can mint tokens the real verifier accepts. */
export function issuerSigningKey(state: LocalStackState) {
  const secretsFile = join(dirname(process.env.PORTOLAN_LOCAL_STATE ?? ''), 'issuer-secrets.json');
  const { jwks } = JSON.parse(readFileSync(secretsFile, 'utf8')) as {
    jwks: { keys: Record<string, string>[] };
  };
  const [jwk] = jwks.keys;
  if (!jwk) throw new Error(`no signing key in ${secretsFile} for ${state.issuer}`);
  return jwk;
}

/**
 * An RS256 token signed with the local issuer's real key; `claims` override the
 * defaults (issuer, audience, 10 minutes of validity). A claim set to undefined is removed.
 */
export function mintToken(
  state: LocalStackState,
  claims: Record<string, unknown>,
  options: MintOptions = {},
): string {
  const jwk = issuerSigningKey(state);
  const now = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({
      iss: state.issuer,
      aud: state.audience,
      iat: now,
      exp: now + 600,
      jti: randomUUID(),
      ...claims,
    }).filter(([, value]) => value !== undefined),
  );
  const header = { alg: 'RS256', typ: 'JWT', kid: jwk.kid, ...options.header };
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const signature = createSign('RSA-SHA256')
    .update(signingInput)
    .sign(options.privateKey ?? { key: jwk as never, format: 'jwk' })
    .toString('base64url');
  return `${signingInput}.${signature}`;
}
