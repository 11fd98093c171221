import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, unique } from './api-client.ts';

describe('a policy audit over HTTP', () => {
  it('is read only by callers who may read the policy: audit.read alone does not reveal its statements', async () => {
    const id = unique('secret-policy');
    const statements = [
      { sid: 'Quiet', effect: 'deny', actions: ['catalog:DeleteService'], resources: ['*'] },
    ];
    // A principal no caller has: the policy must not change what the other tests may do.
    const body = { principal: { sub: unique('nobody') }, statements };
    assert.equal((await call('PUT', `/v1/policies/${id}`, { body })).status, 201);

    const asReader = await call('GET', `/v1/audit?entity=policy/${id}`, { as: 'reader' });
    assert.equal(asReader.status, 403, JSON.stringify(asReader.body));
    assert.match(String(asReader.body.detail), /policy:GetPolicy/);
    assert.doesNotMatch(JSON.stringify(asReader.body), /Quiet/);
    assert.equal((await call('GET', `/v1/policies/${id}`, { as: 'reader' })).status, 403);

    const asAdmin = await call('GET', `/v1/audit?entity=policy/${id}`);
    assert.equal(asAdmin.status, 200);
    assert.match(JSON.stringify(asAdmin.body.items), /Quiet/);

    const team = unique('team');
    await call('PUT', `/v1/teams/${team}`, { body: { name: team } });
    assert.equal((await call('GET', `/v1/audit?entity=team/${team}`, { as: 'reader' })).status, 200);
  });
});
