/**
 * A person's `portolan login` against the local stack's real issuer, over real
 * HTTP: the test plays the browser (the dev CA trusted, cookies kept, the login
 * form posted, redirects followed to the CLI's loopback), then the CLI uses,
 * refreshes and forgets the cached login.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { call, state, teamDoc, unique } from '../api/api-client.ts';

const ca = readFileSync(state.caFile, 'utf8');
const users = state.users ?? {};

/** The CLI in a child process, a fresh config directory, no other credential. */
function portolan(args: string[], configHome: string, onStderr?: (text: string) => void) {
  const child = spawn(process.execPath, ['bin/portolan.js', ...args], {
    env: {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      HOME: configHome,
      XDG_CONFIG_HOME: configHome,
      PORTOLAN_LOCAL_STATE: process.env.PORTOLAN_LOCAL_STATE ?? '',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    onStderr?.(stderr);
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/** Resolves with the first match of `pattern` in the CLI's stderr. */
function runUntil(args: string[], configHome: string, pattern: RegExp) {
  let found: (m: RegExpMatchArray) => void = () => undefined;
  const match = new Promise<RegExpMatchArray>((resolve) => {
    found = resolve;
  });
  const done = portolan(args, configHome, (text) => {
    const m = text.match(pattern);
    if (m) found(m);
  });
  return { match: Promise.race([match, done.then((r) => assert.fail(`exited early: ${r.stderr}`))]), done };
}

interface Page {
  status: number;
  location?: string;
  body: string;
}

/** A browser: one cookie jar, the dev CA trusted, redirects followed until a page is served. */
function browser() {
  const jar = new Map<string, string>();
  const once = (url: string, form?: Record<string, string>) =>
    new Promise<Page>((resolve, reject) => {
      const target = new URL(url);
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        target,
        {
          method: form ? 'POST' : 'GET',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(target.protocol === 'https:' ? { ca } : {}),
        },
        (res) => {
          for (const cookie of res.headers['set-cookie'] ?? []) {
            const [pair = ''] = cookie.split(';');
            const at = pair.indexOf('=');
            jar.set(pair.slice(0, at), pair.slice(at + 1));
          }
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              location: res.headers.location ? new URL(res.headers.location, url).href : undefined,
              body: text,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const visit = async (url: string, form?: Record<string, string>): Promise<Page & { url: string }> => {
    let page = await once(url, form);
    let at = url;
    for (let hops = 0; page.location && hops < 10; hops++) {
      at = page.location;
      page = await once(at);
    }
    return { ...page, url: at };
  };
  /** Submits the page's form (`id` when it has several), its hidden fields plus `fields`. */
  const submit = (page: { body: string; url: string }, fields: Record<string, string>, id?: string) => {
    const forms = [...page.body.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)];
    const form =
      forms.find((f) => !id || f[1]?.includes(`id="${id}"`)) ?? assert.fail(`no form in ${page.body}`);
    const action = form[1]?.match(/action="([^"]*)"/)?.[1] ?? '';
    const hidden = Object.fromEntries(
      [...(form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*>/g)].map((input) => [
        input[0].match(/name="([^"]*)"/)?.[1] ?? '',
        input[0].match(/value="([^"]*)"/)?.[1] ?? '',
      ]),
    );
    return visit(new URL(action.replaceAll('&amp;', '&'), page.url).href, { ...hidden, ...fields });
  };
  return { visit, submit, once };
}

const credentialsOf = (configHome: string) =>
  JSON.parse(readFileSync(join(configHome, 'portolan', 'credentials.json'), 'utf8')) as Record<
    string,
    { accessToken: string; refreshToken: string; expiresAt: number; tokenEndpoint: string }
  >;

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

async function signInWithCode(configHome: string, username: string) {
  const run = runUntil(
    ['login', '--no-browser', '--timeout', '60'],
    configHome,
    /(https:\/\/\S+\/auth\?\S+)/,
  );
  const [, authorizeUrl = ''] = await run.match;
  const params = new URL(authorizeUrl).searchParams;
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const b = browser();
  const form = await b.visit(authorizeUrl);
  assert.match(form.body, /name="password"/);
  const user = users[username] ?? assert.fail(`no user ${username} in local.json`);
  const done = await b.submit(form, { username, password: user.password });
  assert.equal(done.status, 200, done.body);
  assert.match(done.url, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
  assert.match(done.body, /Signed in/);
  return run.done;
}

describe('portolan login', () => {
  it('lists the dev users in local.json, one group each, as the contract names them', () => {
    assert.deepEqual(users.alice?.groups, ['local:payments-eng']);
    assert.deepEqual(users.bob?.groups, ['local:search-eng']);
    assert.deepEqual(users.ada?.groups, ['local:portolan-admins']);
    assert.ok((users.alice?.password.length ?? 0) >= 20);
    assert.equal(state.peopleClientId, 'portolan-cli');
  });

  it('signs alice in by authorization code + PKCE, caches 0600, shows her groups, refreshes, logs out', async () => {
    const home = mkdtempSync(join(tmpdir(), 'portolan-login-'));
    const login = await signInWithCode(home, 'alice');
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in to .* as alice@portolan\.local \(groups: local:payments-eng\)/);

    assert.equal(statSync(join(home, 'portolan', 'credentials.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'portolan')).mode & 0o777, 0o700);
    const first = credentialsOf(home)[state.apiUrl] ?? assert.fail('no login cached for the API');
    const claims = claimsOf(first.accessToken);
    assert.equal(claims.token_use, 'access');
    assert.equal(claims.client_id, 'portolan-cli');
    assert.equal(claims.aud, state.audience);
    assert.ok(Number(claims.exp) - Number(claims.iat) <= 3600);

    const whoami = await portolan(['whoami', '--output', 'json'], home);
    assert.equal(whoami.code, 0, whoami.stderr);
    const { principal } = JSON.parse(whoami.stdout);
    assert.deepEqual(principal.claims.groups, ['local:payments-eng']);
    assert.equal(principal.claims.email, 'alice@portolan.local');
    assert.equal(principal.subject, users.alice?.sub);

    // Expired: the next command refreshes silently, and the refresh token rotates.
    const cache = credentialsOf(home);
    writeFileSync(
      join(home, 'portolan', 'credentials.json'),
      JSON.stringify({ [state.apiUrl]: { ...first, expiresAt: 0 } }),
    );
    const again = await portolan(['whoami', '--output', 'json'], home);
    assert.equal(again.code, 0, again.stderr);
    const refreshed = credentialsOf(home)[state.apiUrl] ?? assert.fail('login lost on refresh');
    assert.notEqual(refreshed.accessToken, cache[state.apiUrl]?.accessToken);
    assert.notEqual(refreshed.refreshToken, first.refreshToken);
    assert.ok(refreshed.expiresAt > Date.now() / 1000 + 600);

    const logout = await portolan(['logout'], home);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /logged out of .*refresh token revoked/);
    assert.deepEqual(credentialsOf(home), {});
    // Revoked: the refresh token no longer gets a token.
    const reuse = await fetchToken(refreshed.tokenEndpoint, refreshed.refreshToken);
    assert.equal(reuse.error, 'invalid_grant');
    // No login left: the CLI falls back to the local stack's ci client, not alice.
    const after = await portolan(['whoami', '--output', 'json'], home);
    assert.equal(JSON.parse(after.stdout).principal.clientId, state.clients.ci.clientId);
  });

  it('alice, signed in, sees her team, changes its service and is refused on another team’s', async () => {
    const payments = unique('payments');
    const search = unique('search');
    for (const [team, group] of [
      [payments, 'local:payments-eng'],
      [search, 'local:search-eng'],
    ] as const)
      assert.equal(
        (await call('PUT', `/v1/teams/${team}`, { body: { ...teamDoc(team), groups: [group] } })).status,
        201,
      );
    const home = mkdtempSync(join(tmpdir(), 'portolan-login-'));
    assert.equal((await signInWithCode(home, 'alice')).code, 0);

    const whoami = await portolan(['whoami', '--output', 'json'], home);
    assert.ok(JSON.parse(whoami.stdout).principal.teams.includes(payments), whoami.stdout);
    const document = (id: string, team: string) => {
      const file = join(home, `${id}.yaml`);
      writeFileSync(
        file,
        `apiVersion: portolan/v1\nentities:\n  - kind: service\n    id: ${id}\n    team: ${team}\n    tier: tier-2\n`,
      );
      return file;
    };
    const mine = unique('svc');
    const own = await portolan(['apply', '-f', document(mine, payments)], home);
    assert.equal(own.code, 0, own.stderr);
    assert.equal((await call('GET', `/v1/services/${mine}`)).status, 200);
    // Only a read scope: changing another team's service is refused, naming what decided.
    const theirs = unique('svc');
    const other = await portolan(['apply', '-f', document(theirs, search)], home);
    assert.equal(other.code, 1, other.stderr);
    assert.match(
      other.stderr,
      new RegExp(`refused: put service/${theirs} — no statement allows it \\(default deny\\)`),
    );
    assert.equal((await call('GET', `/v1/services/${theirs}`)).status, 404);
  });

  it('signs bob in with the device authorization grant, approved on the issuer device page', async () => {
    const home = mkdtempSync(join(tmpdir(), 'portolan-login-'));
    const run = runUntil(
      ['login', '--device', '--no-browser', '--timeout', '60'],
      home,
      /open (https:\/\/\S+) and enter the code (\S+)/,
    );
    const [, verificationUri = '', userCode = ''] = await run.match;
    const b = browser();
    const input = await b.visit(verificationUri);
    const confirm = await b.submit(input, { user_code: userCode });
    assert.match(confirm.body, new RegExp(userCode.replace(/[^\w]/g, '.')));
    const form = await b.submit(confirm, {}, 'op.deviceConfirmForm');
    assert.match(form.body, /name="password"/);
    const done = await b.submit(form, { username: 'bob', password: users.bob?.password ?? '' });
    assert.match(done.body, /Signed in/);
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /bob@portolan\.local \(groups: local:search-eng\)/);
  });

  it('refuses a wrong password on the login form', async () => {
    const home = mkdtempSync(join(tmpdir(), 'portolan-login-'));
    const run = runUntil(['login', '--no-browser', '--timeout', '3'], home, /(https:\/\/\S+\/auth\?\S+)/);
    const [, authorizeUrl = ''] = await run.match;
    const b = browser();
    const refused = await b.submit(await b.visit(authorizeUrl), { username: 'alice', password: 'guess' });
    assert.equal(refused.status, 401);
    assert.match(refused.body, /wrong password/);
    assert.equal((await run.done).code, 3);
  });

  it('refuses a redirect with the wrong state, ignores garbage, and times out cleanly', async () => {
    const home = mkdtempSync(join(tmpdir(), 'portolan-login-'));
    const run = runUntil(['login', '--no-browser', '--timeout', '3'], home, /(https:\/\/\S+\/auth\?\S+)/);
    const [, authorizeUrl = ''] = await run.match;
    const params = new URL(authorizeUrl).searchParams;
    const callback = params.get('redirect_uri') ?? '';
    const b = browser();
    const wrongState = await b.visit(`${callback}?code=stolen&state=not-${params.get('state')}`);
    assert.equal(wrongState.status, 400);
    assert.match(wrongState.body, /state mismatch/);
    assert.equal((await b.visit(`${callback}?%ZZ%00garbage`)).status, 400);
    assert.equal((await b.visit(`${callback}?state=${params.get('state')}`)).status, 400, 'no code');
    assert.equal((await b.visit(callback.replace('/callback', '/other'))).status, 404);
    const result = await run.done;
    assert.equal(result.code, 3);
    assert.match(result.stderr, /no sign-in came back to http:\/\/127\.0\.0\.1:\d+\/callback within 3s/);
    assert.throws(() => statSync(join(home, 'portolan', 'credentials.json')), /ENOENT/);
  });

  it('refuses an authorization request without an S256 code challenge, or to a redirect that is not loopback', async () => {
    const authorize = (params: Record<string, string>) =>
      browser().once(
        `${state.issuer}/auth?${new URLSearchParams({
          response_type: 'code',
          client_id: 'portolan-cli',
          redirect_uri: 'http://127.0.0.1:9/callback',
          scope: 'openid portolan/catalog.read',
          state: 'x',
          ...params,
        })}`,
      );
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    const missing = await authorize({});
    assert.match(missing.location ?? '', /^http:\/\/127\.0\.0\.1:9\/callback\?error=invalid_request/);
    const plain = await authorize({ code_challenge: challenge, code_challenge_method: 'plain' });
    assert.match(plain.location ?? '', /error=invalid_request/);
    const elsewhere = await authorize({
      code_challenge: challenge,
      code_challenge_method: 'S256',
      redirect_uri: 'http://attacker.example/callback',
    });
    assert.equal(elsewhere.location, undefined, 'no redirect to an unregistered URI');
    assert.equal(elsewhere.status, 400);
    const fine = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' });
    assert.match(fine.location ?? '', /\/interaction\//);
  });

  it('says where the URL is when login has no issuer for an API', async () => {
    const home = mkdtempSync(join(tmpdir(), 'portolan-login-'));
    const result = await portolan(['login', '--api-url', 'https://api.example.invalid'], home);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /pass --issuer .* and --client-id/);
  });
});

function fetchToken(tokenEndpoint: string, refreshToken: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = httpsRequest(
      tokenEndpoint,
      { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'portolan-cli',
      }).toString(),
    );
  });
}
