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

  // Bumped by invalidate(): a load that started before it may hold teams from before the write.
  let generation = 0;

  /**
   * The union of the groups' teams. The answer is built from what this call
   * saw (cached or loaded), never re-read from the cache after the await: an
   * invalidate() meanwhile must not drop a group's teams from this answer.
   */
  async function teamsOf(groups: string[]): Promise<string[]> {
    const seen = new Map<string, string[]>();
    const missing: string[] = [];
    for (const group of groups) {
      const entry = cache.get(group);
      if (entry && now() - entry.at < ttlMs) seen.set(group, entry.teams);
      else missing.push(group);
    }
    if (missing.length) {
      const started = generation;
      const found = await directory.teamsOfGroups(missing);
      for (const group of missing) seen.set(group, found.get(group) ?? []);
      if (started === generation) remember(missing, seen);
    }
    const teams = new Set<string>();
    for (const list of seen.values()) for (const team of list) teams.add(team);
    return [...teams].sort();
  }

  function remember(groups: string[], seen: ReadonlyMap<string, string[]>) {
    const at = now();
    for (const group of groups) {
      cache.delete(group);
      cache.set(group, { teams: seen.get(group) ?? [], at });
    }
    for (const oldest of cache.keys()) {
      if (cache.size <= maxEntries) break;
      cache.delete(oldest);
    }
  }

  return {
    async withTeams(principal) {
      const groups = groupsOfClaims(principal.claims);
      return { ...principal, groups, teams: groups.length ? await teamsOf(groups) : [] };
    },
    invalidate: () => {
      generation++;
      cache.clear();
    },
  };
}
