import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '#shared/auth/principal';
import { maxGroupsConsidered } from '#shared/auth/principal-groups';
import { makeTeamMembership } from '#shared/auth/team-membership';
import type { TeamDirectory } from '#shared/store/team-groups';

/** An in-memory group index that counts the lookups it answers. */
function directory(index: Record<string, string[]>) {
  const calls: string[][] = [];
  const teamDirectory: TeamDirectory = {
    async teamsOfGroups(groups) {
      calls.push([...groups]);
      return new Map(groups.filter((g) => index[g]).map((g) => [g, index[g] as string[]]));
    },
  };
  return { teamDirectory, calls };
}

const withGroups = (groups: unknown): Principal => ({
  issuer: 'https://idp',
  subject: 'p',
  scopes: [],
  claims: { groups },
});

describe('team membership', () => {
  it('maps groups to the union of their teams, sorted', async () => {
    const { teamDirectory } = directory({ 'okta:a': ['search', 'payments'], 'okta:b': ['payments'] });
    const principal = await makeTeamMembership(teamDirectory).withTeams(
      withGroups(['okta:a', 'okta:b', 'okta:c']),
    );
    assert.deepEqual(principal.teams, ['payments', 'search']);
    assert.deepEqual(principal.groups, ['okta:a', 'okta:b', 'okta:c']);
  });

  it('reads nothing for a principal without groups', async () => {
    const { teamDirectory, calls } = directory({});
    const principal = await makeTeamMembership(teamDirectory).withTeams(withGroups(undefined));
    assert.deepEqual([principal.groups, principal.teams, calls.length], [[], [], 0]);
  });

  it('reuses a group’s teams for the TTL, then reads it again', async () => {
    let clock = 0;
    const { teamDirectory, calls } = directory({ 'okta:a': ['payments'] });
    const membership = makeTeamMembership(teamDirectory, { ttlMs: 30_000, now: () => clock });
    await membership.withTeams(withGroups(['okta:a']));
    clock = 29_999;
    await membership.withTeams(withGroups(['okta:a', 'okta:new']));
    assert.deepEqual(calls, [['okta:a'], ['okta:new']]);
    clock = 30_000;
    await membership.withTeams(withGroups(['okta:a']));
    assert.equal(calls.length, 3);
    membership.invalidate();
    await membership.withTeams(withGroups(['okta:a']));
    assert.equal(calls.length, 4);
  });

  it('keeps a cached group’s teams when invalidate() runs while another group loads, and caches nothing from that load', async () => {
    const index: Record<string, string[]> = { 'okta:a': ['payments'], 'okta:b': ['search'] };
    let release: () => void = () => {};
    let hold = false;
    const calls: string[][] = [];
    const membership = makeTeamMembership({
      async teamsOfGroups(groups) {
        calls.push([...groups]);
        if (hold) await new Promise<void>((resolve) => (release = resolve));
        return new Map(groups.map((g) => [g, index[g] ?? []]));
      },
    });
    await membership.withTeams(withGroups(['okta:a']));
    hold = true;
    const pending = membership.withTeams(withGroups(['okta:a', 'okta:b']));
    await new Promise((resolve) => setImmediate(resolve));
    membership.invalidate(); // another request wrote a team meanwhile
    release();
    assert.deepEqual((await pending).teams, ['payments', 'search']);
    hold = false;
    await membership.withTeams(withGroups(['okta:b']));
    assert.deepEqual(
      calls,
      [['okta:a'], ['okta:b'], ['okta:b']],
      'the load that straddled invalidate() was not cached',
    );
  });

  it('asks once, for at most maxGroupsConsidered groups, however many the token lists', async () => {
    const { teamDirectory, calls } = directory({ 'okta:g0': ['payments'] });
    const groups = Array.from({ length: 1_000 }, (_, i) => `okta:g${i}`);
    const principal = await makeTeamMembership(teamDirectory).withTeams(withGroups(groups));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.length, maxGroupsConsidered);
    assert.deepEqual(principal.teams, ['payments']);
  });

  it('remembers at most maxEntries groups, forgetting the oldest', async () => {
    const { teamDirectory, calls } = directory({});
    const membership = makeTeamMembership(teamDirectory, { maxEntries: 3 });
    for (const g of ['okta:1', 'okta:2', 'okta:3', 'okta:4']) await membership.withTeams(withGroups([g]));
    await membership.withTeams(withGroups(['okta:4', 'okta:2']));
    assert.equal(calls.length, 4); // both still cached
    await membership.withTeams(withGroups(['okta:1']));
    assert.equal(calls.length, 5); // the oldest was forgotten
  });
});
