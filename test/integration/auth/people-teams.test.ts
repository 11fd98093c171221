import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { personToken } from '../../support/people.ts';
import { type ApiResponse, call, state, teamDoc, unique } from '../api/api-client.ts';

/**
 * People on teams by their identity-provider groups, over real HTTP: the local
 * stack runs with `TEAM_MEMBERS_POLICY=on` and `ADMIN_GROUPS=["local:portolan-admins"]`.
 */
describe('teams map to groups', () => {
  const [payments, search, billing] = [unique('payments'), unique('search'), unique('billing')];
  const [paymentsEng, searchEng, billingEng] = [
    `local:${unique('payments-eng')}`,
    `local:${unique('search-eng')}`,
    `local:${unique('billing-eng')}`,
  ];
  // alice: payments and billing (two groups, one of them on two teams); bob: search; carol: none.
  const alice = () =>
    personToken(state, {
      sub: unique('alice'),
      email: 'alice@acme.example',
      name: 'Alice Liddell',
      groups: [paymentsEng, billingEng, 'local:everyone'],
    });
  const bob = () => personToken(state, { sub: unique('bob'), groups: [searchEng] });
  const carol = () => personToken(state, { sub: unique('carol'), groups: ['local:everyone'] });

  const put = (path: string, body: unknown, bearer?: string) =>
    call('PUT', path, { body, ...(bearer ? { bearer } : {}) });
  const detail = (r: ApiResponse) => JSON.stringify(r.body);

  before(async () => {
    for (const [id, groups] of [
      [payments, [paymentsEng]],
      [search, [searchEng]],
      [billing, [billingEng, paymentsEng]],
    ] as const) {
      const r = await put(`/v1/teams/${id}`, { ...teamDoc(id), groups });
      assert.equal(r.status, 201, detail(r));
    }
  });

  it('whoami shows a person’s groups, their teams and the team-members statement resolved to them', async () => {
    const me = await call('GET', '/v1/whoami', { bearer: alice() });
    assert.equal(me.status, 200, detail(me));
    const principal = me.body.principal as Record<string, unknown>;
    assert.deepEqual(principal.groups, [paymentsEng, billingEng, 'local:everyone']);
    assert.deepEqual(principal.teams, [billing, payments].sort());
    const allow = (me.body.permissions as { allow: Record<string, unknown>[] }).allow;
    const own = allow.find((s) => s.sid === 'TeamMembersChangeTheirTeamsEntities');
    assert.equal(own?.source, 'builtin/team-members');
    assert.deepEqual(own?.conditions, { StringEquals: { 'resource.team': [billing, payments].sort() } });

    const one = await call('GET', '/v1/whoami', { bearer: bob() });
    assert.deepEqual((one.body.principal as Record<string, unknown>).teams, [search]);

    const none = await call('GET', '/v1/whoami', { bearer: carol() });
    assert.deepEqual((none.body.principal as Record<string, unknown>).teams, []);
    const noneAllow = (none.body.permissions as { allow: Record<string, unknown>[] }).allow;
    assert.equal(
      noneAllow.some((s) => s.source === 'builtin/team-members'),
      false,
    );
  });

  it('a member changes their team’s service and is refused on another team’s, with the deciding statement', async () => {
    const token = alice();
    const mine = unique('svc');
    const created = await put(`/v1/services/${mine}`, { team: payments }, token);
    assert.equal(created.status, 201, detail(created));
    // Both of alice's teams count.
    const other = await put(`/v1/services/${unique('svc')}`, { team: billing }, token);
    assert.equal(other.status, 201, detail(other));

    const theirs = await put(`/v1/services/${unique('svc')}`, { team: search }, token);
    assert.equal(theirs.status, 403, detail(theirs));
    assert.equal(theirs.body.decidedBy, 'default-deny');
    assert.match(String(theirs.body.detail), /catalog:PutService on service\//);

    // Nor can a member hand their service to another team.
    const moved = await put(`/v1/services/${mine}`, { team: search }, token);
    assert.equal(moved.status, 403, detail(moved));

    // The owner of the other team may change it; alice may not delete it.
    const bobs = unique('svc');
    assert.equal((await put(`/v1/services/${bobs}`, { team: search }, bob())).status, 201);
    const deleted = await call('DELETE', `/v1/services/${bobs}`, { bearer: token });
    assert.equal(deleted.status, 403, detail(deleted));
    assert.equal((await call('DELETE', `/v1/services/${mine}`, { bearer: token })).status, 204);
  });

  it('the documented stored equivalent of the built-in is accepted and resolves to the person’s teams', async () => {
    const sub = unique('gus');
    const readme = JSON.parse(
      readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')
        .split('```json\n')
        .find((block) => block.startsWith('{\n  "description": "team members change'))
        ?.split('\n```')[0] ?? 'null',
    ) as Record<string, unknown>;
    assert.ok(readme, 'docs/api.md shows the stored team-members policy');
    const id = unique('team-members');
    // Narrowed to this test's person, so that other tests sharing the stack are unaffected.
    const stored = await put(`/v1/policies/${id}`, { ...readme, principal: { sub } });
    assert.equal(stored.status, 201, detail(stored));
    const token = personToken(state, { sub, groups: [searchEng] });
    const me = await call('GET', '/v1/whoami', { bearer: token });
    const statement = (me.body.permissions as { allow: Record<string, unknown>[] }).allow.find(
      (s) => s.source === `policy/${id}` && s.sid === 'TeamMembersChangeTheirTeamsEntities',
    );
    assert.deepEqual(statement?.conditions, { StringEquals: { 'resource.team': [search] } });
  });

  it('a person on no team changes nothing', async () => {
    const r = await put(`/v1/services/${unique('svc')}`, { team: payments }, carol());
    assert.equal(r.status, 403, detail(r));
    assert.equal(r.body.decidedBy, 'default-deny');
  });

  it('apply: a member applies their team’s entities; one entity of another team refuses the whole document', async () => {
    const token = alice();
    const repo = `github.com/${unique('acme')}/ledger`;
    const service = unique('svc');
    const document = (entities: Record<string, unknown>[]) => ({ apiVersion: 'portolan/v1', entities });
    const mine = [
      { kind: 'repository', id: repo, team: payments },
      { kind: 'service', id: service, team: payments, repository: repo },
    ];
    const applied = await call('POST', '/v1/apply', { bearer: token, body: document(mine) });
    assert.equal(applied.status, 200, detail(applied));
    assert.equal((await call('GET', `/v1/services/${service}`)).body.team, payments);

    const foreign = unique('svc');
    const refused = await call('POST', '/v1/apply', {
      bearer: token,
      body: document([...mine, { kind: 'service', id: foreign, team: search }]),
    });
    assert.equal(refused.status, 403, detail(refused));
    assert.equal(refused.body.decidedBy, 'default-deny');
    assert.deepEqual(
      (refused.body.refused as { ref: string }[]).map((r) => r.ref),
      [`service/${foreign}`],
    );
    assert.equal((await call('GET', `/v1/services/${foreign}`)).status, 404);
  });

  it('members of the admin group administer Portolan; a look-alike group does not', async () => {
    const admin = personToken(state, {
      sub: unique('ada'),
      groups: ['local:portolan-admins'],
      scope: 'openid',
    });
    const policy = {
      statements: [{ sid: 'Nothing', effect: 'deny', actions: ['audit:Nothing'], resources: ['x'] }],
    };
    const ok = await put(`/v1/policies/${unique('by-admin')}`, policy, admin);
    assert.equal(ok.status, 201, detail(ok));
    const me = await call('GET', '/v1/whoami', { bearer: admin });
    const allow = (me.body.permissions as { allow: Record<string, unknown>[] }).allow;
    assert.ok(allow.some((s) => s.source === 'builtin/admin-group'));

    const lookalike = personToken(state, {
      sub: unique('eve'),
      groups: ['other:portolan-admins', 'local:portolan-admins '],
    });
    const refused = await put(`/v1/policies/${unique('by-eve')}`, policy, lookalike);
    assert.equal(refused.status, 403, detail(refused));
  });

  it('the audit log names the person: sub, email, name and groups at the time; the chain verifies', async () => {
    const sub = unique('alice');
    const token = personToken(state, {
      sub,
      email: 'alice@acme.example',
      name: 'Alice Liddell',
      groups: [paymentsEng, 42, { not: 'a group' }],
    });
    const service = unique('svc');
    assert.equal((await put(`/v1/services/${service}`, { team: payments }, token)).status, 201);
    const events = await call('GET', `/v1/audit?entity=service/${service}`);
    assert.equal(events.status, 200, detail(events));
    const [event] = events.body.items as { actor: Record<string, unknown> }[];
    assert.equal(event?.actor.sub, sub);
    assert.equal(event?.actor.email, 'alice@acme.example');
    assert.equal(event?.actor.name, 'Alice Liddell');
    assert.deepEqual(event?.actor.groups, [paymentsEng]);
    assert.equal(event?.actor.clientId, 'portolan-cli');
    const verified = await call('GET', `/v1/audit/verify?entity=service/${service}`);
    assert.equal(verified.status, 200, detail(verified));
    assert.equal(verified.body.intact, true, detail(verified));
  });

  it('a team’s groups are indexed on every change: removing a group or the team takes the membership away', async () => {
    const group = `local:${unique('temp-eng')}`;
    const team = unique('temp');
    const token = personToken(state, { sub: unique('dan'), groups: [group] });
    const teamsOf = async () =>
      ((await call('GET', '/v1/whoami', { bearer: token })).body.principal as Record<string, unknown>).teams;
    assert.deepEqual(await teamsOf(), []);
    assert.equal((await put(`/v1/teams/${team}`, { ...teamDoc(team), groups: [group] })).status, 201);
    assert.deepEqual(await teamsOf(), [team]);
    assert.equal((await put(`/v1/teams/${team}`, { ...teamDoc(team), groups: [] })).status, 200);
    assert.deepEqual(await teamsOf(), []);
    // Through apply too, and the team's deletion.
    const applied = await call('POST', '/v1/apply', {
      body: { apiVersion: 'portolan/v1', entities: [{ kind: 'team', ...teamDoc(team), groups: [group] }] },
    });
    assert.equal(applied.status, 200, detail(applied));
    assert.deepEqual(await teamsOf(), [team]);
    assert.equal((await call('DELETE', `/v1/teams/${team}`)).status, 204);
    assert.deepEqual(await teamsOf(), []);
  });

  it('concurrent writes of teams sharing a group both land in the index', async () => {
    const group = `local:${unique('shared-eng')}`;
    const teams = [unique('left'), unique('right'), unique('third')];
    const written = await Promise.all(
      teams.map((t) => put(`/v1/teams/${t}`, { ...teamDoc(t), groups: [group] })),
    );
    assert.deepEqual(
      written.map((r) => r.status),
      [201, 201, 201],
    );
    const token = personToken(state, { sub: unique('erin'), groups: [group] });
    const me = await call('GET', '/v1/whoami', { bearer: token });
    assert.deepEqual((me.body.principal as Record<string, unknown>).teams, [...teams].sort());
  });

  it('a change of more groups than one transaction holds is refused whole, with what to do', async () => {
    const team = unique('big');
    const groups = (tag: string) => Array.from({ length: 50 }, (_, i) => `local:${tag}-${i}`);
    assert.equal((await put(`/v1/teams/${team}`, { ...teamDoc(team), groups: groups('a') })).status, 201);
    const refused = await put(`/v1/teams/${team}`, { ...teamDoc(team), groups: groups('b') });
    assert.equal(refused.status, 409, detail(refused));
    assert.match(String(refused.body.detail), /change fewer of the team's groups at once/);
    // Nothing was written: the old groups still map to the team.
    const token = personToken(state, { sub: unique('fay'), groups: ['local:a-7'] });
    const me = await call('GET', '/v1/whoami', { bearer: token });
    assert.deepEqual((me.body.principal as Record<string, unknown>).teams, [team]);
    // In two steps it goes through.
    const half = [...groups('a').slice(0, 25), ...groups('b').slice(0, 25)];
    assert.equal((await put(`/v1/teams/${team}`, { ...teamDoc(team), groups: half })).status, 200);
    assert.equal((await put(`/v1/teams/${team}`, { ...teamDoc(team), groups: groups('b') })).status, 200);
  });

  it('refuses malformed team groups with a located 400', async () => {
    for (const groups of [
      ['payments-eng'],
      ['local:a', 'local:a'],
      'local:a',
      [42],
      Array(51)
        .fill(0)
        .map((_, i) => `local:g${i}`),
    ]) {
      const team = unique('bad');
      const r = await put(`/v1/teams/${team}`, { ...teamDoc(team), groups });
      assert.equal(r.status, 400, `${JSON.stringify(groups).slice(0, 60)}: ${detail(r)}`);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.match(detail(r), /groups/);
    }
  });

  it('a hostile groups claim is ignored or capped, never a 5xx', async () => {
    const claims: unknown[] = [
      'local:not-a-list',
      { 0: paymentsEng },
      null,
      12,
      [[paymentsEng]],
      [`local:${'x'.repeat(5_000)}`, paymentsEng],
      [true, 1.5, null, {}, [], paymentsEng],
      // The person's real group beyond the first 100 is not considered.
      [...Array.from({ length: 300 }, (_, i) => `l:${i}`), paymentsEng],
    ];
    const expected = [[], [], [], [], [], [payments, billing].sort(), [payments, billing].sort(), []];
    for (const [i, groups] of claims.entries()) {
      const token = personToken(state, { sub: unique('hostile'), groups });
      const me = await call('GET', '/v1/whoami', { bearer: token });
      assert.equal(me.status, 200, `claim ${i}: ${detail(me).slice(0, 300)}`);
      assert.deepEqual((me.body.principal as Record<string, unknown>).teams, expected[i], `claim ${i}`);
      const write = await put(`/v1/services/${unique('svc')}`, { team: search }, token);
      assert.equal(write.status, 403, `claim ${i}: ${detail(write).slice(0, 300)}`);
    }
  });
});
