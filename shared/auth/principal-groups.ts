/**
 * A person's identity-provider groups, from the `groups` claim of a verified
 * token. The claim is the identity provider's word, but its size is not: a
 * directory can put a person in thousands of groups. Only well-formed names
 * (the team schema's `<idp>:<group>`) count, duplicates once, and at most
 * `maxGroupsConsidered` of them, in the order the token lists them; anything
 * else in the claim (numbers, objects, overlong strings) is ignored.
 */
import { groupName } from '#shared/catalog/entity-schemas';

/** Groups of one principal that are matched against teams and admin groups. */
export const maxGroupsConsidered = 100;
/** Claim entries looked at, so a huge claim costs a bounded amount of work. */
const maxEntriesExamined = 1_000;

export function groupsOfClaims(claims: Record<string, unknown>): string[] {
  const raw = claims.groups;
  if (!Array.isArray(raw)) return [];
  const groups = new Set<string>();
  for (const value of raw.slice(0, maxEntriesExamined)) {
    if (groups.size >= maxGroupsConsidered) break;
    if (typeof value === 'string' && groupName.safeParse(value).success) groups.add(value);
  }
  return [...groups];
}
