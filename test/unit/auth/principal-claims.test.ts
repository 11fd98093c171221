import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { principalFromClaims, toAuditActor } from '#shared/auth/principal-claims';

describe('principalFromClaims', () => {
  it('reads a Cognito client-credentials access token', () => {
    const principal = principalFromClaims({
      iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
      sub: '6k2…client',
      client_id: '6k2…client',
      token_use: 'access',
      scope: 'portolan/catalog.read portolan/catalog.write',
    });
    assert.equal(principal.clientId, '6k2…client');
    assert.deepEqual(principal.scopes, ['portolan/catalog.read', 'portolan/catalog.write']);
  });

  it('reads a GitHub Actions token: no scopes, client from its single audience', () => {
    const principal = principalFromClaims({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/checkout:ref:refs/heads/main',
      aud: 'https://github.com/acme',
      repository: 'acme/checkout',
    });
    assert.deepEqual(principal.scopes, []);
    assert.equal(principal.clientId, 'https://github.com/acme');
    assert.equal(principal.subject, 'repo:acme/checkout:ref:refs/heads/main');
  });

  it('accepts scp arrays (Okta) and prefers azp over a multi-valued audience', () => {
    const principal = principalFromClaims({
      iss: 'i',
      sub: 's',
      scp: ['a', 'b'],
      aud: ['x', 'y'],
      azp: 'web',
    });
    assert.deepEqual(principal.scopes, ['a', 'b']);
    assert.equal(principal.clientId, 'web');
  });
});

describe('toAuditActor', () => {
  it('keeps issuer, subject, client and the CI claims, nothing else', () => {
    const actor = toAuditActor(
      principalFromClaims({
        iss: 'https://token.actions.githubusercontent.com',
        sub: 'repo:acme/checkout:ref:refs/heads/main',
        aud: 'portolan',
        repository: 'acme/checkout',
        run_id: 1234,
        sha: 'abc',
        email: 'someone@acme.example',
      }),
    );
    assert.deepEqual(actor, {
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/checkout:ref:refs/heads/main',
      clientId: 'portolan',
      repository: 'acme/checkout',
      sha: 'abc',
      run_id: '1234',
    });
  });
});
