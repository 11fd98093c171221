/**
 * Who is calling: what the authorizer learned from a verified JWT, handed to the
 * API handler through the authorizer context.
 */
export interface Principal {
  /** Token issuer (`iss`). */
  issuer: string;
  /** Token subject (`sub`). */
  subject: string;
  /** OAuth client (`client_id`, or `azp`/`aud` when the issuer has no client_id claim). */
  clientId?: string;
  /** OAuth scopes granted by the token (`scope` / `scp`), e.g. `portolan/catalog.read`. */
  scopes: string[];
  /** Every verified claim, for policy conditions (`${token.repository}`) and the audit actor. */
  claims: Record<string, unknown>;
  /**
   * The person's identity-provider groups (`groups` claim, validated and capped)
   * and the teams that list them, resolved by the API per request, never carried
   * in the authorizer's cached context.
   */
  groups?: string[];
  teams?: string[];
}

/**
 * What the authorizer returns as `context` (HTTP API simple response). The
 * authorizer always answers `isAuthorized: true` and passes either the principal
 * or the reason the token was refused, so that the API can answer with a precise
 * RFC 9457 `401` (API Gateway's own 401 body cannot be customised on HTTP APIs).
 */
export type AuthorizerContext = { principal: string } | { authError: string };

export const portolanScopes = [
  'portolan/catalog.read',
  'portolan/catalog.write',
  'portolan/audit.read',
  'portolan/admin',
] as const;
export type PortolanScope = (typeof portolanScopes)[number];
