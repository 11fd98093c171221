/**
 * The claims a person's Cognito access token gains at sign-in and on every
 * refresh (pre-token-generation trigger, event version 2): `groups` as
 * `<idp-name>:<group>` — the identity provider's name as configured, then the
 * group as the IdP sent it — plus `email` and `name`, which Cognito otherwise
 * puts in the ID token only.
 *
 * The group attribute is whatever the IdP sent, mapped into `custom:groups`:
 * a SAML multi-valued attribute arrives as `[a, b]`, an OIDC array claim as a
 * JSON array, some IdPs send one comma-separated string. All are read; nothing
 * from an attribute can become a claim other than these three.
 */

/** The parts of Cognito's V2 pre-token-generation event this reads. */
export interface PreTokenEventV2 {
  version?: string;
  triggerSource?: string;
  userName?: string;
  userPoolId?: string;
  request: {
    userAttributes?: Record<string, string | undefined>;
    groupConfiguration?: { groupsToOverride?: string[] | undefined };
  };
}

export interface PersonClaims {
  groups: string[];
  email?: string;
  name?: string;
}

/** What the trigger answers (`response.claimsAndScopeOverrideDetails`). */
export interface ClaimsOverride {
  accessTokenGeneration: { claimsToAddOrOverride: Record<string, string | string[]> };
  idTokenGeneration: { claimsToAddOrOverride: Record<string, string[]> };
}

/** The user pool attribute the IdPs' group attribute is mapped to. */
export const groupsAttribute = 'custom:groups';
/** Native user pool users (when enabled) get their Cognito groups under this prefix. */
export const cognitoProviderName = 'cognito';
/** A group claim longer than this is dropped: a team lists groups of at most 256 characters. */
export const maxGroupLength = 256;
/** At most this many groups reach a token; the rest are dropped (a token is sent with every request). */
export const maxGroups = 100;
/** Cognito caps attribute values at 2048 characters; anything longer was not written by Cognito. */
const maxAttributeLength = 2048;

/**
 * The identity provider a federated user signed in through: `providerName` of
 * the primary entry of the `identities` attribute (Cognito writes it), else the
 * `<provider>_` prefix of the user name. Matched case-insensitively against
 * the configured names and returned as configured; undefined for a native user
 * or a provider that is not configured.
 */
export function providerOf(event: PreTokenEventV2, configured: readonly string[]): string | undefined {
  const candidates = [...identityProviderNames(event.request.userAttributes?.identities)];
  const userName = event.userName ?? '';
  if (userName.includes('_')) candidates.push(userName.slice(0, userName.indexOf('_')));
  for (const candidate of candidates) {
    const match = configured.find((name) => name.toLowerCase() === candidate.toLowerCase());
    if (match) return match;
  }
  return undefined;
}

function identityProviderNames(identities: string | undefined): string[] {
  if (!identities || identities.length > maxAttributeLength) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(identities);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const entries = parsed.filter(
    (entry): entry is { providerName: string; primary?: unknown } =>
      typeof entry === 'object' && entry !== null && typeof entry.providerName === 'string',
  );
  // The primary identity first: a linked user signs in through it.
  const primary = (entry: { primary?: unknown }) => entry.primary === true || entry.primary === 'true';
  return [...entries.filter(primary), ...entries.filter((entry) => !primary(entry))].map(
    (entry) => entry.providerName,
  );
}

/**
 * The group names in an IdP's group attribute value: a JSON array of strings,
 * a bracketed list `[a, b]` (how Cognito stores a SAML multi-valued
 * attribute), a comma-separated list, or one name. Names are trimmed; empty
 * names and names with control characters are dropped, duplicates removed.
 * A name containing a comma can only arrive intact in the JSON form.
 */
export function parseGroupAttribute(value: string | undefined): string[] {
  if (!value || value.length > maxAttributeLength) return [];
  const trimmed = value.trim();
  let names: unknown[] | undefined;
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) names = parsed;
    } catch {
      names = trimmed.slice(1, -1).split(',');
    }
  }
  names ??= trimmed.split(',');
  const clean = names
    .filter((name): name is string => typeof name === 'string')
    .map((name) => name.trim())
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    .filter((name) => name.length > 0 && !/[\u0000-\u001f\u007f]/.test(name));
  return [...new Set(clean)];
}

/** The `groups` claim: every group prefixed with its IdP's name, within the limits above. */
export function groupsClaim(provider: string, names: readonly string[]): string[] {
  return names
    .map((name) => `${provider}:${name}`)
    .filter((group) => group.length <= maxGroupLength)
    .slice(0, maxGroups);
}

/**
 * The person's claims. A federated user's groups come from the mapped group
 * attribute; a native user's (only when the pool lets them sign in) from their
 * Cognito groups, less the `<poolId>_<provider>` groups Cognito adds on its own.
 */
export function personClaims(event: PreTokenEventV2, configuredProviders: readonly string[]): PersonClaims {
  const attributes = event.request.userAttributes ?? {};
  const provider = providerOf(event, configuredProviders);
  const federated = attributes['cognito:user_status'] === 'EXTERNAL_PROVIDER' || attributes.identities;
  let groups: string[] = [];
  if (provider) groups = groupsClaim(provider, parseGroupAttribute(attributes[groupsAttribute]));
  else if (!federated) {
    const automatic = `${event.userPoolId ?? ''}_`;
    const cognitoGroups = (event.request.groupConfiguration?.groupsToOverride ?? []).filter(
      (group): group is string => typeof group === 'string' && !group.startsWith(automatic),
    );
    groups = groupsClaim(cognitoProviderName, parseGroupAttribute(JSON.stringify(cognitoGroups)));
  }
  const claims: PersonClaims = { groups };
  for (const key of ['email', 'name'] as const) {
    const value = attributes[key];
    if (typeof value === 'string' && value.length > 0 && value.length <= maxAttributeLength)
      claims[key] = value;
  }
  return claims;
}

/** The trigger's answer: the claims into the access token, `groups` into the ID token too. */
export function claimsOverride(claims: PersonClaims): ClaimsOverride {
  const access: Record<string, string | string[]> = { groups: claims.groups };
  if (claims.email !== undefined) access.email = claims.email;
  if (claims.name !== undefined) access.name = claims.name;
  return {
    accessTokenGeneration: { claimsToAddOrOverride: access },
    idTokenGeneration: { claimsToAddOrOverride: { groups: claims.groups } },
  };
}

/** `IDENTITY_PROVIDERS`: the JSON list of configured identity provider names (set by the stack). */
export function providerNamesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.IDENTITY_PROVIDERS ?? '[]';
  const names: unknown = JSON.parse(raw);
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string'))
    throw new Error(`IDENTITY_PROVIDERS=${raw} is not a JSON list of names`);
  return names;
}
