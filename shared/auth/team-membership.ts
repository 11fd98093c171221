/**
 * A person's teams: the teams whose `groups` list one of the person's groups,
 * read from the catalog's group index and kept per group for a short time in
 * this process, so that a request that decides many entities (apply), and the
 * requests after it, cost at most one batched read of the groups not yet known.
 * The cache is bounded: past `maxEntries` groups, the oldest are forgotten.
 */

import type { Principal } from '#shared/auth/principal';
import { groupsOfClaims } from '#shared/auth/principal-groups';
import type { TeamDirectory } from '#shared/store/team-groups';

export interface TeamMembershipOptions {
  /** How long a group's teams are reused. @default 30 s */
  ttlMs?: number;
  /** Groups remembered at most. @default 10,000 */
  maxEntries?: number;
  now?: () => number;
}

export interface TeamMembership {
  /** The principal with its validated `groups` and the `teams` they map to. */
  withTeams(principal: Principal): Promise<Principal>;
  /** Forget every cached group (after this process changed a team). */
  invalidate(): void;
}

export function makeTeamMembership(
  directory: TeamDirectory,
  { ttlMs = 30_000, maxEntries = 10_000, now = () => Date.now() }: TeamMembershipOptions = {},
): TeamMembership {
  // A Map iterates in insertion order: the first key is the oldest entry.
  const cache = new Map<string, { teams: string[]; at: number }>();

  async function teamsOf(groups: string[]): Promise<string[]> {
    const fresh = (group: string) => {
      const entry = cache.get(group);
      return entry && now() - entry.at < ttlMs ? entry : undefined;
    };
    const missing = groups.filter((group) => !fresh(group));
    if (missing.length) {
      const found = await directory.teamsOfGroups(missing);
      const at = now();
      for (const group of missing) {
        cache.delete(group);
        cache.set(group, { teams: found.get(group) ?? [], at });
      }
      for (const oldest of cache.keys()) {
        if (cache.size <= maxEntries) break;
        cache.delete(oldest);
      }
    }
    const teams = new Set<string>();
    for (const group of groups) for (const team of cache.get(group)?.teams ?? []) teams.add(team);
    return [...teams].sort();
  }

  return {
    async withTeams(principal) {
      const groups = groupsOfClaims(principal.claims);
      return { ...principal, groups, teams: groups.length ? await teamsOf(groups) : [] };
    },
    invalidate: () => cache.clear(),
  };
}
