import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { authorizationSettingsFromEnv } from '#shared/auth/authorization-settings';
import {
  type AuthorizationSettings,
  authorize,
  effectivePermissions,
  maxExpansions,
} from '#shared/auth/evaluate-policy';
import { type Policy, policySchema } from '#shared/auth/policy-schema';
import type { Principal } from '#shared/auth/principal';
import { groupsOfClaims, maxGroupsConsidered } from '#shared/auth/principal-groups';
import { groupName, team } from '#shared/catalog/entity-schemas';

const person = (teams: string[], groups: string[] = []): Principal => ({
  issuer: 'https://idp.acme.example',
  subject: 'alice',
  scopes: ['portolan/catalog.read'],
  claims: { sub: 'alice', groups },
  groups,
  teams,
});

const teamWrites: Policy = policySchema.parse({
  id: 'team-writes',
  statements: [
    {
      sid: 'OwnTeam',
      effect: 'allow',
      actions: ['catalog:PutService'],
      resources: ['service/*'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable
      conditions: { StringEquals: { 'resource.team': '${principal.teams}' } },
    },
  ],
});

const putService = (principal: Principal, documents: Record<string, unknown>[], extra = {}) =>
  authorize({
    principal,
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents,
    policies: [teamWrites],
    ...extra,
  });

const checkout = (team: string) => ({ id: 'checkout', team });

describe('the principal.teams policy variable', () => {
  it('matches nothing for a person on no team', () => {
    const decision = putService(person([]), [checkout('payments')]);
    assert.equal(decision.decidedBy, 'default-deny');
  });

  it('matches the one team of a person on one team, and only it', () => {
    assert.equal(
      putService(person(['payments']), [checkout('payments')]).decidedBy,
      'policy/team-writes#OwnTeam',
    );
    assert.equal(putService(person(['payments']), [checkout('search')]).decidedBy, 'default-deny');
  });

  it('matches any of the teams of a person on several', () => {
    const alice = person(['billing', 'payments', 'search']);
    for (const t of ['billing', 'payments', 'search'])
      assert.equal(putService(alice, [checkout(t)]).allowed, true, t);
    assert.equal(putService(alice, [checkout('identity')]).allowed, false);
  });

  it('requires both sides of a change to be the person’s: no moving a service to or from another team', () => {
    const alice = person(['payments']);
    assert.equal(putService(alice, [checkout('search'), checkout('payments')]).allowed, false);
    assert.equal(putService(alice, [checkout('payments'), checkout('search')]).allowed, false);
  });

  it('substitutes groups literally: a group named with * is not a wildcard in StringLike', () => {
    const policy = policySchema.parse({
      id: 'groups-like',
      statements: [
        {
          sid: 'GroupRepos',
          effect: 'allow',
          actions: ['catalog:PutRepository'],
          resources: ['repository/*'],
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable
          conditions: { StringLike: { 'resource.url': 'https://git.acme.example/${principal.groups}/*' } },
        },
      ],
    });
    const decide = (groups: string[], url: string) =>
      authorize({
        principal: person([], groups),
        action: 'catalog:PutRepository',
        resource: 'repository/git.acme.example/x/y',
        documents: [{ id: 'git.acme.example/x/y', team: 'payments', url }],
        policies: [policy],
      }).allowed;
    assert.equal(decide(['okta:platform'], 'https://git.acme.example/okta:platform/api'), true);
    assert.equal(decide(['okta:*'], 'https://git.acme.example/okta:platform/api'), false);
  });

  it('is a condition key too: principal.teams and principal.groups', () => {
    const policy = policySchema.parse({
      id: 'sre',
      statements: [
        {
          sid: 'SreAudit',
          effect: 'allow',
          actions: ['audit:*'],
          resources: ['*'],
          conditions: { StringEquals: { 'principal.groups': 'okta:sre', 'principal.teams': 'platform' } },
        },
      ],
    });
    const decide = (teams: string[], groups: string[]) =>
      authorize({
        principal: person(teams, groups),
        action: 'audit:ReadEvents',
        resource: 'audit/x',
        documents: [],
        policies: [policy],
      }).allowed;
    assert.equal(decide(['platform'], ['okta:sre']), true);
    assert.equal(decide(['platform'], ['okta:dev']), false);
    assert.equal(decide([], ['okta:sre']), false);
  });

  it('expands at most maxExpansions combinations of several multi-valued variables', () => {
    const policy = policySchema.parse({
      id: 'product',
      statements: [
        {
          sid: 'Product',
          effect: 'allow',
          actions: ['catalog:PutService'],
          resources: ['service/*'],
          // biome-ignore lint/suspicious/noTemplateCurlyInString: policy variables
          conditions: { StringEquals: { 'resource.description': '${principal.teams}/${principal.groups}' } },
        },
      ],
    });
    const teams = Array.from({ length: 100 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const groups = Array.from({ length: 100 }, (_, i) => `okta:g${String(i).padStart(2, '0')}`);
    const decide = (description: string) =>
      authorize({
        principal: person(teams, groups),
        action: 'catalog:PutService',
        resource: 'service/x',
        documents: [{ id: 'x', team: 't00', description }],
        policies: [policy],
      }).allowed;
    assert.equal(maxExpansions, 1_000);
    assert.equal(decide('t00/okta:g00'), true);
    assert.equal(decide('t09/okta:g99'), true); // combination 1,000
    assert.equal(decide('t10/okta:g00'), false); // combination 1,001: beyond the cap
  });

  it('is shown resolved in the effective permissions, one value per team', () => {
    const { allow } = effectivePermissions(person(['payments', 'search']), [teamWrites]);
    const own = allow.find((s) => s.sid === 'OwnTeam');
    assert.deepEqual(own?.conditions, { StringEquals: { 'resource.team': ['payments', 'search'] } });
    const none = effectivePermissions(person([]), [teamWrites]).allow.find((s) => s.sid === 'OwnTeam');
    assert.match(String(none?.conditions?.StringEquals?.['resource.team']), /matches nothing/);
  });

  it('leaves token variables single-valued, as before', () => {
    const policy = policySchema.parse({
      id: 'token',
      statements: [
        {
          sid: 'Token',
          effect: 'allow',
          actions: ['catalog:PutService'],
          resources: ['service/*'],
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable
          conditions: { StringEquals: { 'resource.team': '${token.teams}' } },
        },
      ],
    });
    const principal = { ...person([]), claims: { teams: ['payments', 'search'] } };
    const decide = (t: string) =>
      authorize({
        principal,
        action: 'catalog:PutService',
        resource: 'service/checkout',
        documents: [checkout(t)],
        policies: [policy],
      }).allowed;
    assert.equal(decide('payments'), true);
    assert.equal(decide('search'), false);
  });
});

describe('group built-ins', () => {
  const on: AuthorizationSettings = { adminGroups: ['okta:portolan-admins'], teamMembersPolicy: true };

  it('team members change their team’s services only when the deployment turns the built-in on', () => {
    const alice = person(['payments'], ['okta:payments-eng']);
    const put = (documents: Record<string, unknown>[], settings?: AuthorizationSettings) =>
      authorize({
        principal: alice,
        action: 'catalog:PutService',
        resource: 'service/checkout',
        documents,
        policies: [],
        ...(settings ? { settings } : {}),
      });
    assert.equal(put([checkout('payments')]).decidedBy, 'default-deny');
    assert.equal(
      put([checkout('payments')], on).decidedBy,
      'builtin/team-members#TeamMembersChangeTheirTeamsEntities',
    );
    assert.equal(put([checkout('search')], on).decidedBy, 'default-deny');
    assert.equal(put([checkout('payments'), checkout('search')], on).allowed, false);
  });

  it('team members may not change teams, nor claim catch-all telemetry', () => {
    const alice = person(['payments'], ['okta:payments-eng']);
    for (const [action, resource, doc] of [
      ['catalog:PutTeam', 'team/payments', { id: 'payments', name: 'P' }],
      ['catalog:ClaimTelemetry', 'selector/service.name/glob/*', checkout('payments')],
    ] as const)
      assert.equal(
        authorize({ principal: alice, action, resource, documents: [doc], policies: [], settings: on })
          .allowed,
        false,
        action,
      );
  });

  it('a teamless person gets no team-members statement at all, not even catalog:Apply', () => {
    const decision = authorize({
      principal: person([]),
      action: 'catalog:Apply',
      resource: 'catalog',
      documents: [],
      policies: [],
      settings: on,
    });
    assert.equal(decision.decidedBy, 'default-deny');
  });

  it('members of an admin group administer; others do not', () => {
    const decide = (groups: string[]) =>
      authorize({
        principal: person([], groups),
        action: 'policy:PutPolicy',
        resource: 'policy/x',
        documents: [],
        policies: [],
        settings: on,
      }).decidedBy;
    assert.equal(decide(['okta:portolan-admins']), 'builtin/admin-group#AdminGroupAdministers');
    assert.equal(decide(['okta:portolan-admins-not']), 'default-deny');
    assert.equal(decide([]), 'default-deny');
  });
});

describe('groupsOfClaims', () => {
  it('keeps well-formed group names once, in token order', () => {
    assert.deepEqual(groupsOfClaims({ groups: ['okta:b', 'okta:a', 'okta:b', 'local:Payments Eng'] }), [
      'okta:b',
      'okta:a',
      'local:Payments Eng',
    ]);
  });

  it('ignores what is not a list of group names', () => {
    for (const groups of ['okta:a', 42, null, { 0: 'okta:a' }, undefined])
      assert.deepEqual(groupsOfClaims({ groups }), [], String(groups));
    assert.deepEqual(
      groupsOfClaims({
        groups: [
          1,
          true,
          null,
          ['okta:nested'],
          { g: 1 },
          '',
          'no-colon',
          `okta:${'x'.repeat(300)}`,
          'okta:a\u0000b',
          'okta:ok',
        ],
      }),
      ['okta:ok'],
    );
  });

  it('considers at most the first maxGroupsConsidered groups of a huge claim', () => {
    const groups = Array.from({ length: 100_000 }, (_, i) => `okta:g${i}`);
    const kept = groupsOfClaims({ groups });
    assert.equal(kept.length, maxGroupsConsidered);
    assert.equal(kept.at(-1), `okta:g${maxGroupsConsidered - 1}`);
  });

  it('never throws and returns only unique, valid names, at most maxGroupsConsidered (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.anything({ maxDepth: 3 }),
        fc.array(fc.oneof(fc.string(), fc.anything()), { maxLength: 300 }),
        (a, b) => {
          for (const claim of [a, b]) {
            const kept = groupsOfClaims({ groups: claim });
            assert.ok(kept.length <= maxGroupsConsidered);
            assert.equal(new Set(kept).size, kept.length);
            for (const g of kept) assert.ok(groupName.safeParse(g).success);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('team groups (schema)', () => {
  const withGroups = (groups: unknown) => team.safeParse({ id: 'payments', name: 'Payments', groups });

  it('accepts <idp>:<group> names, up to 50, unique', () => {
    assert.ok(withGroups(['okta:payments-eng', 'entra:3f2a…', 'local:Payments Engineering']).success);
    assert.ok(withGroups(Array.from({ length: 50 }, (_, i) => `okta:g${i}`)).success);
    assert.ok(team.safeParse({ id: 'payments', name: 'Payments' }).success);
  });

  it('refuses malformed, duplicate, overlong and too many groups, saying why', () => {
    const refusal = (groups: unknown) => {
      const result = withGroups(groups);
      assert.equal(result.success, false, JSON.stringify(groups).slice(0, 80));
      return JSON.stringify(result.error?.issues);
    };
    assert.match(refusal(['payments-eng']), /<identity provider>:<group>/);
    assert.match(refusal([':x']), /<identity provider>:<group>/);
    assert.match(refusal(['okta:']), /<identity provider>:<group>/);
    assert.match(refusal(['okta:a\nb']), /<identity provider>:<group>/);
    assert.match(refusal([`okta:${'x'.repeat(252)}`]), /256|too_big/);
    assert.match(refusal(['okta:a', 'okta:a']), /unique/);
    assert.match(refusal(Array.from({ length: 51 }, (_, i) => `okta:g${i}`)), /50|too_big/);
    refusal([42]);
    refusal('okta:a');
  });
});

describe('authorizationSettingsFromEnv', () => {
  it('reads ADMIN_GROUPS and TEAM_MEMBERS_POLICY, off and empty by default', () => {
    assert.deepEqual(authorizationSettingsFromEnv({}), { adminGroups: [], teamMembersPolicy: false });
    assert.deepEqual(
      authorizationSettingsFromEnv({ ADMIN_GROUPS: '["okta:portolan-admins"]', TEAM_MEMBERS_POLICY: 'on' }),
      { adminGroups: ['okta:portolan-admins'], teamMembersPolicy: true },
    );
  });

  it('refuses a malformed value at start rather than guessing', () => {
    assert.throws(() => authorizationSettingsFromEnv({ ADMIN_GROUPS: 'okta:admins' }), /not JSON/);
    assert.throws(() => authorizationSettingsFromEnv({ ADMIN_GROUPS: '["admins"]' }), /<idp>:<group>/);
    assert.throws(() => authorizationSettingsFromEnv({ TEAM_MEMBERS_POLICY: 'yes please' }), /"on" or "off"/);
  });
});

describe('policy schema: principal variables', () => {
  const statement = (value: string) => ({
    id: 'p',
    statements: [
      {
        sid: 'S',
        effect: 'allow',
        actions: ['catalog:PutService'],
        resources: ['service/*'],
        conditions: { StringEquals: { 'resource.team': value } },
      },
    ],
  });

  it('accepts the teams and groups principal variables, and refuses any other', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: policy variables
    for (const ok of ['${principal.teams}', 'x-${principal.groups}', '${token.team}'])
      assert.ok(policySchema.safeParse(statement(ok)).success, ok);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: policy variables
    for (const bad of ['${principal.team}', '${principal.subject}', '${principal.}']) {
      const result = policySchema.safeParse(statement(bad));
      assert.equal(result.success, false, bad);
      assert.match(JSON.stringify(result.error?.issues), /only principal variables/);
    }
  });
});
