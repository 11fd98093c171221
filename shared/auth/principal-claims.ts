/** Turning verified JWT claims into a Principal, and a Principal into an audit actor. */
import type { AuditActor } from '#shared/audit/audit-event';
import type { Principal } from '#shared/auth/principal';
import { groupsOfClaims } from '#shared/auth/principal-groups';

/**
 * CI claims worth keeping in the audit log: GitHub Actions' and GitLab CI's
 * identity of the job that made a change, so "who changed this?" can name the
 * workflow run and commit, not just a client id.
 */
const ciClaims = [
  'repository',
  'repository_owner',
  'ref',
  'sha',
  'workflow',
  'job_workflow_ref',
  'run_id',
  'actor',
  'environment',
  'project_path',
  'namespace_path',
  'pipeline_id',
  'user_login',
] as const;

const scopesOf = (claims: Record<string, unknown>): string[] => {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
};

const clientIdOf = (claims: Record<string, unknown>): string | undefined => {
  for (const candidate of [claims.client_id, claims.azp]) if (typeof candidate === 'string') return candidate;
  if (typeof claims.aud === 'string') return claims.aud;
  if (Array.isArray(claims.aud) && claims.aud.length === 1 && typeof claims.aud[0] === 'string')
    return claims.aud[0];
  return undefined;
};

/** The principal of a verified token (the caller guarantees `iss` and `sub` were verified). */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const clientId = clientIdOf(claims);
  return {
    issuer: String(claims.iss),
    // Cognito client-credentials tokens have sub = client id; every issuer sets one.
    subject: String(claims.sub ?? clientId ?? ''),
    ...(clientId ? { clientId } : {}),
    scopes: scopesOf(claims),
    claims,
  };
}

/** The person's own claims, kept at most this long (a token can carry anything). */
const maxPersonClaimLength = 256;

export function toAuditActor(principal: Principal): AuditActor {
  const actor: AuditActor = { iss: principal.issuer, sub: principal.subject };
  if (principal.clientId) actor.clientId = principal.clientId;
  // A person's token carries a `groups` claim (possibly empty); machines' tokens do not, and
  // their actors keep exactly the fields recorded before people could sign in.
  if (Array.isArray(principal.claims.groups)) {
    for (const claim of ['email', 'name'] as const) {
      const value = principal.claims[claim];
      if (typeof value === 'string' && value !== '') actor[claim] = value.slice(0, maxPersonClaimLength);
    }
    actor.groups = groupsOfClaims(principal.claims);
  }
  for (const claim of ciClaims) {
    const value = principal.claims[claim];
    if (typeof value === 'string' || typeof value === 'number') actor[claim] = String(value);
  }
  return actor;
}
