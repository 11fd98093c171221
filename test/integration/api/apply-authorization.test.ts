import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mintToken } from '../../support/local-stack.ts';
import { type ApiResponse, call, state, teamDoc, unique } from './api-client.ts';

const withoutInstance = ({ status, body }: ApiResponse) => {
  const { instance: _, ...rest } = body;
  return { status, body: rest };
};

/** POST /v1/apply: catalog:Apply first, every entity authorized, prune deletes against their stored documents. */
describe('apply authorization over HTTP', () => {
  const owner = unique('org');
  const team = unique('team');
  const mine = `github.com/${owner}/mine`;
  const claims = (repo: string) => ({
    sub: `repo:${owner}/${repo}`,
    repository: `${owner}/${repo}`,
    repository_owner: owner,
  });
  let job: string;

  before(async () => {
    assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
    const repo = await call('PUT', `/v1/repositories/${encodeURIComponent(mine)}`, { body: { team } });
    assert.equal(repo.status, 201);
    // The GitHub Actions policy documented in docs/ci.md.
    const policy = await call('PUT', `/v1/policies/${unique('github')}`, {
      body: {
        principal: { repository_owner: owner },
        statements: [
          {
            sid: 'ReadCatalog',
            effect: 'allow',
            actions: ['catalog:Get*', 'catalog:List*'],
            resources: ['*'],
          },
          {
            sid: 'ApplyOwnRepository',
            effect: 'allow',
            actions: ['catalog:Apply'],
            resources: [`repository/github.com/\${token.repository}`],
          },
          {
            sid: 'OwnServices',
            effect: 'allow',
            actions: ['catalog:PutService', 'catalog:DeleteService'],
            resources: ['service/*'],
            conditions: { StringEquals: { 'resource.repository': `github.com/\${token.repository}` } },
          },
          {
            sid: 'NeverTierZero',
            effect: 'deny',
            actions: ['catalog:Put*', 'catalog:Delete*'],
            resources: ['*'],
            conditions: { StringEquals: { 'resource.tier': 'tier-0' } },
          },
        ],
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    job = mintToken(state, claims('mine'));
  });

  const scoped = (entities: Record<string, unknown>[]) => ({
    apiVersion: 'portolan/v1',
    scope: { repository: mine },
    entities: [{ kind: 'repository', id: mine, team }, ...entities],
  });

  it('lets the documented GitHub policy prune within its own repository', async () => {
    const [kept, dropped] = [unique('svc'), unique('svc')];
    for (const id of [kept, dropped])
      assert.equal(
        (await call('PUT', `/v1/services/${id}`, { body: { team, repository: mine } })).status,
        201,
      );
    const pruned = await call('POST', '/v1/apply?prune=true', {
      bearer: job,
      body: scoped([{ kind: 'service', id: kept, team, repository: mine }]),
    });
    assert.equal(pruned.status, 200, JSON.stringify(pruned.body));
    assert.equal((await call('GET', `/v1/services/${dropped}`)).status, 404);
    assert.equal((await call('GET', `/v1/services/${kept}`)).status, 200);
  });

  it('applies a deny on the stored document to prune: a tier-0 service is not pruned, as it is not deleted', async () => {
    const broad = unique('broad');
    const policy = await call('PUT', `/v1/policies/${unique('broad-ci')}`, {
      body: {
        principal: { sub: broad },
        statements: [
          { sid: 'Apply', effect: 'allow', actions: ['catalog:Apply'], resources: ['*'] },
          { sid: 'Services', effect: 'allow', actions: ['catalog:*Service'], resources: ['*'] },
          { sid: 'Repositories', effect: 'allow', actions: ['catalog:*Repository'], resources: ['*'] },
          {
            sid: 'NeverDeleteTierZero',
            effect: 'deny',
            actions: ['catalog:Delete*'],
            resources: ['*'],
            conditions: { StringEquals: { 'resource.tier': 'tier-0' } },
          },
        ],
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    const token = mintToken(state, { sub: broad });
    const critical = unique('critical');
    const created = await call('PUT', `/v1/services/${critical}`, {
      body: { team, repository: mine, tier: 'tier-0' },
    });
    assert.equal(created.status, 201);

    const direct = await call('DELETE', `/v1/services/${critical}`, { bearer: token });
    assert.equal(direct.status, 403);
    const pruned = await call('POST', '/v1/apply?prune=true', { bearer: token, body: scoped([]) });
    assert.equal(pruned.status, 403, JSON.stringify(pruned.body));
    const refusal = (pruned.body.refused as Record<string, string>[]).find(
      (r) => r.ref === `service/${critical}`,
    );
    assert.deepEqual(
      { action: refusal?.action, decidedBy: refusal?.decidedBy },
      { action: 'delete', decidedBy: direct.body.decidedBy },
    );
    assert.match(String(direct.body.decidedBy), /#NeverDeleteTierZero$/);
    assert.equal((await call('GET', `/v1/services/${critical}`)).status, 200, 'still there');
  });

  it('requires catalog:Apply, on the scope the document declares', async () => {
    const elsewhere = mintToken(state, claims('other'));
    const service = { kind: 'service', id: unique('svc'), team, repository: `github.com/${owner}/other` };
    const refused = await call('POST', '/v1/apply', {
      bearer: elsewhere,
      body: { ...scoped([service]), scope: { repository: mine } },
    });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(String(refused.body.detail), /catalog:Apply on repository\/github.com\/.*\/mine/);

    // catalog.write grants catalog:Apply; a token that may write services but not apply is refused.
    const putOnly = unique('put-only');
    const policy = await call('PUT', `/v1/policies/${unique('put-only')}`, {
      body: {
        principal: { sub: putOnly },
        statements: [{ sid: 'Put', effect: 'allow', actions: ['catalog:Put*'], resources: ['*'] }],
      },
    });
    assert.equal(policy.status, 201);
    const noApply = await call('POST', '/v1/apply', {
      bearer: mintToken(state, { sub: putOnly }),
      body: { apiVersion: 'portolan/v1', entities: [{ kind: 'team', ...teamDoc(unique('team')) }] },
    });
    assert.equal(noApply.status, 403);
    assert.match(String(noApply.body.detail), /catalog:Apply/);
  });

  it('gives a caller without permission the same answer whether or not an entity exists', async () => {
    const nobody = mintToken(state, { sub: unique('nobody') });
    const existing = { kind: 'team', ...teamDoc(team) };
    const absent = { kind: 'team', ...teamDoc(unique('absent')) };
    const answer = async (bearer: string, entity: Record<string, unknown>) => {
      const r = await call('POST', '/v1/apply', {
        bearer,
        body: { apiVersion: 'portolan/v1', entities: [entity] },
      });
      return JSON.stringify(withoutInstance(r)).replaceAll(String(entity.id), '<id>');
    };
    assert.equal(await answer(nobody, existing), await answer(nobody, absent));
    assert.match(await answer(nobody, existing), /"status":403/);

    // With catalog:Apply but no permission on the entity: refused alike, as a "put", whether it exists or not.
    const applier = unique('applier');
    const policy = await call('PUT', `/v1/policies/${unique('apply-only')}`, {
      body: {
        principal: { sub: applier },
        statements: [{ sid: 'Apply', effect: 'allow', actions: ['catalog:Apply'], resources: ['catalog'] }],
      },
    });
    assert.equal(policy.status, 201);
    const token = mintToken(state, { sub: applier });
    assert.equal(await answer(token, existing), await answer(token, absent));
    assert.match(await answer(token, existing), /"action":"put"/);
  });
});
