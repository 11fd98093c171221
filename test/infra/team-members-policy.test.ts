import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { synthStack } from './synth.ts';

/** The API function's environment variables, by the function's description. */
function apiEnvironment(context: Record<string, unknown>) {
  const { template } = synthStack(context);
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: 'Portolan catalog API' },
  });
  const [api] = Object.values(functions) as {
    Properties: { Environment?: { Variables?: Record<string, unknown> } };
  }[];
  assert.ok(api, 'the API function is in the template');
  return api.Properties.Environment?.Variables ?? {};
}

describe('teamMembersPolicy context', () => {
  it('is off by default, and turns builtin/team-members on in the API function', () => {
    assert.equal(apiEnvironment({}).TEAM_MEMBERS_POLICY, undefined);
    assert.equal(apiEnvironment({ teamMembersPolicy: 'true' }).TEAM_MEMBERS_POLICY, 'on');
    assert.equal(apiEnvironment({ teamMembersPolicy: false }).TEAM_MEMBERS_POLICY, undefined);
  });
});
