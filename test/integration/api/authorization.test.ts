import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mintToken } from '../../support/local-stack.ts';
import { call, state, teamDoc, unique } from './api-client.ts';

describe('authorization over HTTP', () => {
  const owner = unique('org');
  const team = unique('team');
  const policyId = unique('ci-own-repo');
  let ownRepoToken: string;

  before(async () => {
    assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
    for (const repo of ['mine', 'theirs']) {
      const id = `github.com/${owner}/${repo}`;
      const r = await call('PUT', `/v1/repositories/${encodeURIComponent(id)}`, { body: { team } });
      assert.equal(r.status, 201);
    }
    const policy = await call('PUT', `/v1/policies/${policyId}`, {
      body: {
        description: 'a CI job may change only the services of its own repository',
        principal: { repository_owner: owner },
        statements: [
          {
            sid: 'ReadCatalog',
            effect: 'allow',
            actions: ['catalog:Get*', 'catalog:List*'],
            resources: ['*'],
          },
          {
            sid: 'OwnRepositoryServices',
            effect: 'allow',
            actions: ['catalog:PutService', 'catalog:DeleteService'],
            resources: ['service/*'],
            conditions: { StringEquals: { 'resource.repository': `github.com/\${token.repository}` } },
          },
          {
            sid: 'NeverTierZero',
            effect: 'deny',
            actions: ['catalog:PutService'],
            resources: ['service/*'],
            conditions: { StringEquals: { 'resource.tier': 'tier-0' } },
          },
        ],
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    ownRepoToken = mintToken(state, {
      sub: `repo:${owner}/mine:ref:refs/heads/main`,
      repository: `${owner}/mine`,
      repository_owner: owner,
    });
  });

  it('lets a repository token change its own services, and names the statement that refuses the rest', async () => {
    const mine = unique('svc');
    const allowed = await call('PUT', `/v1/services/${mine}`, {
      bearer: ownRepoToken,
      body: { team, repository: `github.com/${owner}/mine` },
    });
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));

    const theirs = await call('PUT', `/v1/services/${unique('svc')}`, {
      bearer: ownRepoToken,
      body: { team, repository: `github.com/${owner}/theirs` },
    });
    assert.equal(theirs.status, 403);
    assert.equal(theirs.body.decidedBy, 'default-deny');

    const moved = await call('PUT', `/v1/services/${mine}`, {
      bearer: ownRepoToken,
      body: { team, repository: `github.com/${owner}/theirs` },
    });
    assert.equal(moved.status, 403, 'cannot move its service to another repository');

    const tierZero = await call('PUT', `/v1/services/${mine}`, {
      bearer: ownRepoToken,
      body: { team, repository: `github.com/${owner}/mine`, tier: 'tier-0' },
    });
    assert.equal(tierZero.status, 403);
    assert.equal(tierZero.body.decidedBy, `policy/${policyId}#NeverTierZero`);
    assert.equal(tierZero.headers.get('content-type'), 'application/problem+json');

    const teamChange = await call('PUT', `/v1/teams/${team}`, {
      bearer: ownRepoToken,
      body: teamDoc(team, 'x'),
    });
    assert.equal(teamChange.status, 403);
  });

  it('refuses a write to a token with only the read scope (403)', async () => {
    const r = await call('PUT', `/v1/teams/${unique('team')}`, { as: 'reader', body: { name: 'x' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.decidedBy, 'default-deny');
    assert.match(String(r.body.detail), /catalog:PutTeam/);
  });

  it('keeps policies to admins', async () => {
    const r = await call('PUT', `/v1/policies/${unique('p')}`, {
      as: 'ci',
      body: { statements: [{ sid: 'All', effect: 'allow', actions: ['*'], resources: ['*'] }] },
    });
    assert.equal(r.status, 403);
    const audit = await call('GET', `/v1/audit?entity=policy/${policyId}`);
    assert.equal(audit.body.items?.[0]?.action, 'create');
  });

  it('shows the caller and its effective permissions on /v1/whoami', async () => {
    const reader = await call('GET', '/v1/whoami', { as: 'reader' });
    assert.equal(reader.status, 200);
    const principal = reader.body.principal as Record<string, unknown>;
    assert.deepEqual([...(principal.scopes as string[])].sort(), [
      'portolan/audit.read',
      'portolan/catalog.read',
    ]);
    assert.match(JSON.stringify(reader.body.permissions), /catalog:Get\*/);
    const ci = await call('GET', '/v1/whoami', { bearer: ownRepoToken });
    assert.match(JSON.stringify(ci.body.permissions), /OwnRepositoryServices/);
  });

  it('answers every token defect with a 401 problem', async () => {
    const now = Math.floor(Date.now() / 1000);
    const defects: Record<string, string | null> = {
      missing: null,
      garbage: 'not-a-jwt',
      expired: mintToken(state, { sub: 'x', exp: now - 60, iat: now - 3600 }),
      'wrong issuer': mintToken(state, { sub: 'x', iss: 'https://evil.example' }),
      'wrong audience': mintToken(state, { sub: 'x', aud: 'someone-else' }),
    };
    for (const [defect, bearer] of Object.entries(defects)) {
      const r = await call('GET', '/v1/whoami', { bearer });
      assert.equal(r.status, 401, defect);
    }
  });
});
