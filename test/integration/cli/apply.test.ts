/**
 * `POST /v1/apply` and the `portolan` CLI against the local stack: plan,
 * apply, idempotent re-apply, prune, per-entity policies, imports, located
 * errors and exit codes. The CLI runs as CI runs it: `bin/portolan.js` in a
 * child process, configured through the environment.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DocumentError, loadCatalog } from '#cli/load-documents';
import { mintToken } from '../../support/local-stack.ts';
import { call, state, teamDoc, unique } from '../api/api-client.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'catalog');

function portolan(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['bin/portolan.js', ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      PORTOLAN_LOCAL_STATE: process.env.PORTOLAN_LOCAL_STATE,
      ...env,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The CLI without blocking this process (when a server here must answer it). */
function portolanAsync(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['bin/portolan.js', ...args], {
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const writeDoc = (doc: unknown) => {
  const file = join(mkdtempSync(join(tmpdir(), 'portolan-doc-')), 'portolan.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
};

async function auditCount(entity: string) {
  const response = await call('GET', `/v1/audit?entity=${entity}&limit=100`);
  return response.status === 404 ? 0 : (response.body.items?.length ?? 0);
}

describe('POST /v1/apply', () => {
  it('plans without writing, applies, re-applies as a no-op, and prunes only with prune', async () => {
    const team = unique('team');
    const repo = `github.com/acme/${unique('repo')}`;
    const [api, worker] = [unique('svc'), unique('svc')];
    const doc = {
      apiVersion: 'portolan/v1',
      scope: { repository: repo },
      entities: [
        { kind: 'team', ...teamDoc(team) },
        { kind: 'repository', id: repo, team },
        { kind: 'service', id: api, team, repository: repo, tier: 'tier-1' },
        { kind: 'service', id: worker, team, repository: repo },
      ],
    };
    const dry = await call('POST', '/v1/apply?dryRun=true', { body: doc });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.summary, { create: 4, update: 0, delete: 0, unchanged: 0 });
    assert.equal((await call('GET', `/v1/services/${api}`)).status, 404, 'a dry run writes nothing');

    const applied = await call('POST', '/v1/apply', { body: doc });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.equal(await auditCount(`service/${api}`), 1);

    const again = await call('POST', '/v1/apply', { body: doc });
    assert.deepEqual(again.body.summary, { create: 0, update: 0, delete: 0, unchanged: 4 });
    assert.equal(await auditCount(`service/${api}`), 1, 'no audit event for an unchanged entity');

    const changed = {
      ...doc,
      entities: [doc.entities[0], doc.entities[1], { ...doc.entities[2], tier: 'tier-0' }],
    };
    const plan = await call('POST', '/v1/apply?dryRun=true', { body: changed });
    const changes = plan.body.changes as { ref: string; action: string; diff?: unknown }[];
    assert.deepEqual(
      changes.map((c) => c.action),
      ['unchanged', 'unchanged', 'update'],
      'without prune the omitted service is not deleted',
    );
    assert.deepEqual(changes[2]?.diff, [{ path: 'tier', before: 'tier-1', after: 'tier-0' }]);

    const pruned = await call('POST', '/v1/apply?prune=true', { body: changed });
    assert.equal(pruned.status, 200, JSON.stringify(pruned.body));
    assert.deepEqual(pruned.body.summary, { create: 0, update: 1, delete: 1, unchanged: 2 });
    assert.equal((await call('GET', `/v1/services/${worker}`)).status, 404);
    assert.equal((await call('GET', `/v1/services/${api}`)).body.tier, 'tier-0');
  });

  it('refuses, per entity, what a repository token may not touch, names the statement and writes nothing', async () => {
    const owner = unique('org');
    const team = unique('team');
    assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
    const policy = await call('PUT', `/v1/policies/${unique('repo-owns')}`, {
      body: {
        principal: { repository_owner: owner },
        statements: [
          { sid: 'Apply', effect: 'allow', actions: ['catalog:Apply'], resources: ['catalog'] },
          {
            sid: 'OwnServices',
            effect: 'allow',
            actions: ['catalog:PutService'],
            resources: ['service/*'],
            conditions: { StringEquals: { 'resource.repository': `github.com/\${token.repository}` } },
          },
        ],
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    const repoToken = mintToken(state, {
      sub: `repo:${owner}/mine`,
      repository: `${owner}/mine`,
      repository_owner: owner,
    });
    const mine = unique('svc');
    const theirs = unique('svc');
    for (const r of ['mine', 'theirs'])
      await call('PUT', `/v1/repositories/github.com/${owner}/${r}`, { body: { team } });
    const doc = {
      apiVersion: 'portolan/v1',
      entities: [
        { kind: 'service', id: mine, team, repository: `github.com/${owner}/mine` },
        { kind: 'service', id: theirs, team, repository: `github.com/${owner}/theirs` },
      ],
    };
    const refused = await call('POST', '/v1/apply', { bearer: repoToken, body: doc });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    const [only, ...others] = refused.body.refused as Record<string, string>[];
    assert.deepEqual(others, [], "only the other repository's service is refused");
    assert.deepEqual(
      { ref: only?.ref, action: only?.action, decidedBy: only?.decidedBy },
      { ref: `service/${theirs}`, action: 'put', decidedBy: 'default-deny' },
    );
    assert.match(only?.reason ?? '', /no statement allows it \(default deny\)/);
    assert.match(String(refused.body.detail), /1 change\(s\) refused, nothing written/);
    assert.equal((await call('GET', `/v1/services/${mine}`)).status, 404, 'nothing written');

    const own = await call('POST', '/v1/apply', {
      bearer: repoToken,
      body: { ...doc, entities: [doc.entities[0]] },
    });
    assert.equal(own.status, 200, JSON.stringify(own.body));
  });

  it('answers bad documents with located field errors', async () => {
    const missing = await call('POST', '/v1/apply', {
      body: { apiVersion: 'portolan/v1', entities: [{ kind: 'service', id: 'x1', team: unique('nobody') }] },
    });
    assert.equal(missing.status, 400);
    assert.match(String(missing.body.detail), /does not exist and is not in the document/);
    const twice = await call('POST', '/v1/apply', {
      body: {
        apiVersion: 'portolan/v1',
        entities: [
          { kind: 'team', id: 'a', name: 'a' },
          { kind: 'team', id: 'a', name: 'b' },
        ],
      },
    });
    assert.equal(twice.status, 400);
    assert.deepEqual(twice.body.errors, [
      { pointer: '/entities/1', detail: 'team/a is already declared at /entities/0' },
    ]);
    const invalid = await call('POST', '/v1/apply?prune=true', {
      body: { apiVersion: 'portolan/v1', entities: [] },
    });
    assert.match(String(invalid.body.detail), /prune needs the document to declare its scope/);
  });
});

describe('catalog files', () => {
  it('imports a Backstage catalog-info.yaml, with CODEOWNERS naming the repository team', () => {
    const { document, notes } = loadCatalog([join(fixtures, 'backstage')]);
    const refs = document.entities.map((e) => `${e.kind}/${e.id}`);
    assert.deepEqual(refs, [
      'team/payments-platform',
      'team/engineering',
      'service/payment-gateway',
      'service/payments-ledger-db',
      'repository/github.com/acme/payment-gateway',
    ]);
    const gateway = document.entities.find((e) => e.id === 'payment-gateway') as Record<string, unknown>;
    assert.deepEqual(gateway, {
      kind: 'service',
      id: 'payment-gateway',
      name: 'Payment gateway',
      description: 'Card payments API.',
      team: 'payments-platform',
      repository: 'github.com/acme/payment-gateway',
      lifecycle: 'production',
      runbook: 'https://runbooks.acme.example/payment-gateway',
      dashboards: ['https://grafana.acme.example/d/pgw'],
    });
    assert.deepEqual(notes, ['backstage: skipped API payment-gateway-api: no Portolan equivalent']);
  });

  it('takes the repository team from CODEOWNERS when the document declares none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portolan-codeowners-'));
    writeFileSync(
      join(dir, 'portolan.yaml'),
      'apiVersion: portolan/v1\nscope:\n  repository: github.com/acme/pg\nentities: []\n',
    );
    writeFileSync(join(dir, 'CODEOWNERS'), '# owners\n*  @acme/payments-platform\n');
    const { document, notes } = loadCatalog([dir]);
    assert.deepEqual(document.entities, [
      { kind: 'repository', id: 'github.com/acme/pg', team: 'payments-platform' },
    ]);
    assert.match(notes[0] ?? '', /CODEOWNERS:2: repository github.com\/acme\/pg → team payments-platform/);
  });

  it('locates YAML syntax errors and schema errors by file, line, column and field', () => {
    const problems = (file: string) => {
      try {
        loadCatalog([join(fixtures, 'invalid', file)]);
      } catch (error) {
        assert.ok(error instanceof DocumentError);
        return error.problems.map((p) => p.slice(p.indexOf('invalid/') + 'invalid/'.length));
      }
      assert.fail('expected a DocumentError');
    };
    const syntax = problems('broken-yaml.yaml');
    assert.match(syntax[0] ?? '', /^broken-yaml\.yaml:\d+:\d+: /);
    assert.deepEqual(problems('bad-fields.yaml'), [
      'bad-fields.yaml:9:11: entities[1].tier: must be tier-0 … tier-9',
      'bad-fields.yaml:10:5: entities[1].owner: unknown field',
    ]);
  });
});

describe('portolan CLI', () => {
  it('exit codes: 2 for planned changes, 0 applied and for no changes, 1 invalid, 3 transport or auth', async () => {
    const team = unique('team');
    const file = writeDoc({ apiVersion: 'portolan/v1', entities: [{ kind: 'team', ...teamDoc(team) }] });
    const diff = portolan(['diff', '-f', file]);
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stdout, new RegExp(`\\+ create\\s+team/${team}`));
    assert.equal(portolan(['apply', '-f', file]).code, 0);
    const noChange = portolan(['diff', '-f', file, '--output', 'json']);
    assert.equal(noChange.code, 0);
    assert.equal(JSON.parse(noChange.stdout).summary.unchanged, 1);

    const invalid = portolan(['apply', '-f', join(fixtures, 'invalid', 'bad-fields.yaml')]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /bad-fields\.yaml:9:11: entities\[1\]\.tier/);
    assert.equal(portolan(['frobnicate']).code, 1);

    const got = portolan(['get', 'team', team, '--output', 'json']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).id, team);
    const missing = portolan(['get', 'teams', unique('nobody')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error \(404\): team\/nobody-\w+ does not exist/);
    const audit = portolan(['audit', `team/${team}`, '--verify']);
    assert.equal(audit.code, 1, 'the ci client has no audit.read scope');
    assert.match(audit.stderr, /error \(403\).*\nnext: no policy allows this: request the scope it needs/s);

    const expired = mintToken(state, { sub: 'ci', exp: Math.floor(Date.now() / 1000) - 60 });
    const auth = portolan(['whoami', '--token', expired]);
    assert.equal(auth.code, 3);
    assert.match(auth.stderr, /next: the token from --token has expired/);
    const down = portolan(['whoami', '--api-url', 'http://127.0.0.1:9', '--token', 'x']);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it("inside GitHub Actions, requests the job's OIDC token for PORTOLAN_AUDIENCE and sends it", async () => {
    const requests: { audience: string | null; authorization?: string }[] = [];
    const jobToken = mintToken(state, {
      sub: 'repo:acme/checkout:ref:refs/heads/main',
      repository: 'acme/checkout',
    });
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ audience: url.searchParams.get('audience'), authorization: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ value: jobToken }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const github = {
      PORTOLAN_LOCAL_STATE: '/nonexistent',
      PORTOLAN_API_URL: state.apiUrl,
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
    };
    try {
      const whoami = await portolanAsync(['whoami', '--output', 'json'], {
        ...github,
        PORTOLAN_AUDIENCE: state.audience,
      });
      assert.equal(whoami.code, 0, whoami.stderr);
      assert.equal(JSON.parse(whoami.stdout).principal.subject, 'repo:acme/checkout:ref:refs/heads/main');
      assert.deepEqual(requests, [{ audience: state.audience, authorization: 'bearer request-token' }]);
      const noAudience = await portolanAsync(['whoami'], github);
      assert.equal(noAudience.code, 3);
      assert.match(noAudience.stderr, /set PORTOLAN_AUDIENCE/);
    } finally {
      server.close();
    }
  });

  it('says so when the API URL answers with something that is not the API', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html><body>Welcome to nginx!</body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await portolanAsync(['whoami', '--api-url', url, '--token', 'x'], {});
      assert.equal(result.code, 3);
      assert.match(
        result.stderr,
        /answered 200 with something that is not JSON: is it the Portolan API\? \(<html><body>Welcome/,
      );
      assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
    } finally {
      server.close();
    }
  });

  it('prints the JSON Schema of catalog documents, generated from the API schemas', () => {
    const result = portolan(['schema']);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(schema.required, ['apiVersion', 'entities']);
    assert.match(result.stdout, /"pattern": "\^tier-\[0-9\]\$"/);
  });

  it('uses client credentials from the environment, and the answer of resolve', async () => {
    const ci = state.clients.ci;
    const result = portolan(['resolve', 'service.name=nobody-owns-this'], {
      PORTOLAN_LOCAL_STATE: '/nonexistent',
      PORTOLAN_API_URL: state.apiUrl,
      PORTOLAN_CLIENT_ID: ci.clientId,
      PORTOLAN_CLIENT_SECRET: ci.clientSecret,
      PORTOLAN_TOKEN_URL: state.tokenUrl,
      NODE_EXTRA_CA_CERTS: state.caFile,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ownership\.status = unowned/);
    const missing = portolan(['whoami'], {
      PORTOLAN_LOCAL_STATE: '/nonexistent',
      PORTOLAN_API_URL: state.apiUrl,
      PORTOLAN_CLIENT_ID: 'x',
    });
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /client credentials need PORTOLAN_CLIENT_SECRET and PORTOLAN_TOKEN_URL too/);
  });
});
