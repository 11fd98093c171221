/** Which credentials the CLI picks from its environment, and what it says when a CI's token is unusable. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveAccess } from '#cli/credentials';
import { saveLogin } from '#cli/login-cache';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const base = { PORTOLAN_API_URL: 'https://portolan.example', PORTOLAN_LOCAL_STATE: '/nonexistent' };

describe('resolveAccess', () => {
  it("detects each CI by the variables it sets on every job and takes that job's token", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ GITLAB_CI: 'true', PORTOLAN_ID_TOKEN: jwt }, /GitLab CI id token PORTOLAN_ID_TOKEN/],
      [
        { GITLAB_CI: 'true', PORTOLAN_ID_TOKEN_VARIABLE: 'GL_TOKEN', GL_TOKEN: jwt },
        /GitLab CI id token GL_TOKEN/,
      ],
      [{ CIRCLECI: 'true', CIRCLE_OIDC_TOKEN_V2: jwt }, /CircleCI/],
      [{ BITBUCKET_BUILD_NUMBER: '3', BITBUCKET_STEP_OIDC_TOKEN: jwt }, /Bitbucket Pipelines/],
    ];
    for (const [env, source] of cases) {
      const access = resolveAccess({}, { ...base, ...env });
      assert.match(access.source, source);
      assert.equal(await access.token(), jwt);
    }
    assert.match(resolveAccess({}, { ...base, BUILDKITE: 'true' }).source, /Buildkite/);
    assert.match(
      resolveAccess({}, { ...base, TF_BUILD: 'True', SYSTEM_OIDCREQUESTURI: 'https://x' }).source,
      /Azure Pipelines/,
    );
  });

  it('prefers a given token, then explicit client credentials, to the CI job token', () => {
    const ci = { CIRCLECI: 'true', CIRCLE_OIDC_TOKEN_V2: jwt };
    const credentials = {
      PORTOLAN_CLIENT_ID: 'ci',
      PORTOLAN_CLIENT_SECRET: 's',
      PORTOLAN_TOKEN_URL: 'https://auth.example/token',
    };
    assert.equal(resolveAccess({ token: 't' }, { ...base, ...ci }).source, '--token');
    assert.equal(resolveAccess({}, { ...base, ...ci, ...credentials }).source, 'client credentials of ci');
  });

  it('refuses a CI variable that holds no token, and finds no CI where a variable is missing', async () => {
    const access = resolveAccess({}, { ...base, CIRCLECI: 'true', CIRCLE_OIDC_TOKEN_V2: 'not a token' });
    await assert.rejects(access.token(), /CircleCI \(CIRCLE_OIDC_TOKEN_V2\) answered without a token/);
    assert.throws(() => resolveAccess({}, { ...base, GITLAB_CI: 'true' }), /no credentials/);
    assert.throws(() => resolveAccess({}, { ...base, BITBUCKET_STEP_OIDC_TOKEN: jwt }), /no credentials/);
  });

  it("uses a person's cached login after every other credential, per API URL, and says when it expired", async () => {
    const config = mkdtempSync(join(tmpdir(), 'portolan-config-'));
    const env = { ...base, XDG_CONFIG_HOME: config };
    const login = {
      issuer: 'https://issuer.example',
      clientId: 'people',
      tokenEndpoint: 'https://issuer.example/token',
      accessToken: jwt,
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    };
    saveLogin(env, `${base.PORTOLAN_API_URL}/`, login);
    const access = resolveAccess({}, env);
    assert.match(access.source, /your login/);
    assert.equal(await access.token(), jwt);
    assert.match(
      resolveAccess({}, { ...env, CIRCLECI: 'true', CIRCLE_OIDC_TOKEN_V2: jwt }).source,
      /CircleCI/,
    );
    assert.throws(
      () => resolveAccess({}, { ...env, PORTOLAN_API_URL: 'https://other.example' }),
      /no credentials/,
    );

    saveLogin(env, base.PORTOLAN_API_URL, { ...login, expiresAt: 0 });
    await assert.rejects(resolveAccess({}, env).token(), /has expired: run `portolan login`/);

    const corrupt = { ...base, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'portolan-config-')) };
    mkdirSync(join(corrupt.XDG_CONFIG_HOME, 'portolan'));
    writeFileSync(join(corrupt.XDG_CONFIG_HOME, 'portolan', 'credentials.json'), '{not json');
    assert.throws(() => resolveAccess({}, corrupt), /credentials\.json is not a credentials file/);
  });
});
