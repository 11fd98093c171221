/**
 * The GitHub Action as the runner runs it: the committed bundle
 * (`action/dist/index.mjs`) in a child process with a real run's environment
 * (`GITHUB_*`, `INPUT_*`, `RUNNER_TEMP`, `ACTIONS_ID_TOKEN_REQUEST_*`), its token
 * from the stand-in of GitHub's token endpoint (own key, trusted by the local
 * stack), and a stand-in of GitHub's REST API for the pull request comment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { actionBundle, bundleAction } from '../../../action/build.ts';
import { ciIssuers, requestedAudience, startCiJob } from '../../support/ci-issuers.ts';
import { call, state, teamDoc, unique } from '../api/api-client.ts';

interface Comment {
  id: number;
  body: string;
}

/** GitHub's REST API for issue comments, as much as the action uses, with a token that may or may not write. */
function githubApi() {
  const comments = new Map<number, Comment[]>();
  const requests: string[] = [];
  let nextId = 1000;
  const readBody = async (req: IncomingMessage) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    return JSON.parse(text) as { body: string };
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization;
    if (auth !== 'Bearer ghs_write' && auth !== 'Bearer ghs_read')
      return reply(401, { message: 'Bad credentials' });
    const list = /^\/repos\/acme\/checkout\/issues\/(\d+)\/comments$/.exec(url.pathname);
    const edit = /^\/repos\/acme\/checkout\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (list && req.method === 'GET') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      return reply(200, (comments.get(Number(list[1])) ?? []).slice((page - 1) * perPage, page * perPage));
    }
    if (auth !== 'Bearer ghs_write') return reply(403, { message: 'Resource not accessible by integration' });
    if (list && req.method === 'POST') {
      const comment = { id: nextId++, body: (await readBody(req)).body };
      comments.set(Number(list[1]), [...(comments.get(Number(list[1])) ?? []), comment]);
      return reply(201, comment);
    }
    if (edit && req.method === 'PATCH') {
      const found = [...comments.values()].flat().find((c) => c.id === Number(edit[1]));
      if (!found) return reply(404, { message: 'Not Found' });
      found.body = (await readBody(req)).body;
      return reply(200, found);
    }
    reply(404, { message: 'Not Found' });
  });
  return {
    comments,
    requests,
    start: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Run {
  code: number | null;
  stdout: string;
  summary: string;
  outputs: Record<string, string>;
}

/** One step run: a fresh RUNNER_TEMP, summary and output files, like the runner gives each step. */
function runAction(workspace: string, env: Record<string, string>): Promise<Run> {
  const temp = mkdtempSync(join(tmpdir(), 'runner-temp-'));
  const summaryFile = join(temp, 'step_summary');
  const outputFile = join(temp, 'set_output');
  writeFileSync(summaryFile, '');
  writeFileSync(outputFile, '');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [actionBundle], {
      cwd: workspace,
      env: {
        PATH: process.env.PATH,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: workspace,
        GITHUB_REPOSITORY: 'acme/checkout',
        GITHUB_REPOSITORY_OWNER: 'acme',
        GITHUB_SHA: 'a3f1c9e0b7d24c5f8e6a1b2c3d4e5f60718293a4',
        GITHUB_RUN_ID: '9012345678',
        GITHUB_SERVER_URL: 'https://github.com',
        RUNNER_OS: 'Linux',
        RUNNER_TEMP: temp,
        GITHUB_STEP_SUMMARY: summaryFile,
        GITHUB_OUTPUT: outputFile,
        // The token endpoint stand-in serves HTTPS with the local stack's dev CA.
        NODE_EXTRA_CA_CERTS: state.caFile,
        'INPUT_API-URL': state.apiUrl,
        INPUT_AUDIENCE: requestedAudience,
        INPUT_FILES: 'portolan.yaml',
        INPUT_PRUNE: 'false',
        'INPUT_DRY-RUN': 'false',
        'INPUT_FAIL-ON-CHANGES': 'false',
        ...env,
      },
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stdout += chunk;
    });
    child.on('close', (code) => {
      const outputs = Object.fromEntries(
        readFileSync(outputFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      resolve({ code, stdout, summary: readFileSync(summaryFile, 'utf8'), outputs });
    });
  });
}

describe('the GitHub Action', () => {
  const api = githubApi();
  let apiUrl = '';
  const org = unique('acme');
  const repository = `github.com/${org}/checkout`;
  const team = unique('team');
  const service = unique('checkout');

  before(async () => {
    apiUrl = await api.start();
    assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
    for (const repo of [repository, `github.com/${org}/other`])
      assert.equal((await call('PUT', `/v1/repositories/${repo}`, { body: { team } })).status, 201);
    const policy = await call('PUT', `/v1/policies/${unique('gha')}`, {
      body: {
        principal: { iss: ciIssuers().issuers.github.issuer, repository_owner: org },
        statements: [
          { sid: 'Apply', effect: 'allow', actions: ['catalog:Apply'], resources: ['catalog'] },
          {
            sid: 'OwnRepository',
            effect: 'allow',
            actions: ['catalog:PutService'],
            resources: ['service/*'],
            conditions: { StringEquals: { 'resource.repository': `github.com/\${token.repository}` } },
          },
        ],
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
  });
  after(() => api.stop());

  const workspaceWith = (yaml: string, event: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'workspace-'));
    writeFileSync(join(dir, 'portolan.yaml'), yaml);
    mkdirSync(join(dir, '.github'));
    writeFileSync(join(dir, '.github', 'event.json'), JSON.stringify(event));
    return dir;
  };
  const serviceYaml = (tier: string, repo = repository, id = service) =>
    `apiVersion: portolan/v1\nentities:\n  - kind: service\n    id: ${id}\n    team: ${team}\n    repository: ${repo}\n    tier: ${tier}\n`;
  const pullRequestEvent = { pull_request: { number: 7 }, repository: { default_branch: 'main' } };

  async function jobEnv(workspace: string, eventName: string, ref: string): Promise<Record<string, string>> {
    const job = await startCiJob('github', {
      sub: `repo:${org}/checkout:ref:${ref}`,
      repository: `${org}/checkout`,
      repository_owner: org,
      ref,
      event_name: eventName,
    });
    return {
      ...job.env,
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: join(workspace, '.github', 'event.json'),
      GITHUB_REF: ref,
      GITHUB_API_URL: apiUrl,
    };
  }

  it('on a pull request: plans, summarises, sets outputs and keeps one comment up to date', async () => {
    const first = workspaceWith(serviceYaml('tier-1'), pullRequestEvent);
    const plan = await runAction(first, {
      ...(await jobEnv(first, 'pull_request', 'refs/pull/7/merge')),
      'INPUT_GITHUB-TOKEN': 'ghs_write',
    });
    assert.equal(plan.code, 0, plan.stdout);
    assert.deepEqual(plan.outputs, {
      create: '1',
      update: '0',
      delete: '0',
      unchanged: '0',
      changes: '1',
      applied: 'false',
    });
    assert.match(plan.summary, /### Portolan plan for acme\/checkout/);
    assert.match(plan.summary, /\*\*Plan:\*\* 1 to create, 0 to update, 0 to delete, 0 unchanged/);
    assert.match(plan.summary, new RegExp(`\\| ➕ create \\| <code>service/${service}</code> \\|`));
    assert.match(plan.summary, /Merging into `main` applies it\./);
    assert.equal((await call('GET', `/v1/services/${service}`)).status, 404, 'a pull request writes nothing');
    assert.equal(api.comments.get(7)?.length, 1);

    // Applied meanwhile; the next push to the pull request changes a field.
    assert.equal(
      (await call('PUT', `/v1/services/${service}`, { body: { team, repository, tier: 'tier-1' } })).status,
      201,
    );
    const second = workspaceWith(serviceYaml('tier-0'), pullRequestEvent);
    const replan = await runAction(second, {
      ...(await jobEnv(second, 'pull_request', 'refs/pull/7/merge')),
      'INPUT_GITHUB-TOKEN': 'ghs_write',
    });
    assert.equal(replan.code, 0, replan.stdout);
    assert.equal(replan.outputs.update, '1');
    const fieldDiff = '<code>tier</code>: <code>"tier-1"</code> → <code>"tier-0"</code>';
    assert.ok(replan.summary.includes(fieldDiff), replan.summary);
    const comments = api.comments.get(7) ?? [];
    assert.equal(comments.length, 1, 'the comment is updated, not repeated');
    assert.ok(comments[0]?.body.startsWith('<!-- portolan-plan -->'));
    assert.ok(comments[0]?.body.includes(fieldDiff), 'the comment shows the latest plan');
    assert.ok(api.requests.includes(`PATCH /repos/acme/checkout/issues/comments/${comments[0]?.id}`));

    const readOnly = await runAction(second, {
      ...(await jobEnv(second, 'pull_request', 'refs/pull/7/merge')),
      'INPUT_GITHUB-TOKEN': 'ghs_read',
      'INPUT_FAIL-ON-CHANGES': 'true',
    });
    assert.match(
      readOnly.stdout,
      /::warning::no pull request comment: .* answered 403 \(give the job pull-requests: write\)/,
    );
    assert.equal(readOnly.code, 1, 'fail-on-changes fails a plan with changes');
    assert.match(readOnly.stdout, /::error::the catalog differs from the documents: 1 change\(s\) planned/);
  });

  it('finds its comment among more than a page of others, and edits it', async () => {
    const busy = { pull_request: { number: 8 }, repository: { default_branch: 'main' } };
    const others = Array.from({ length: 130 }, (_, i) => ({ id: i + 1, body: `review comment ${i}` }));
    api.comments.set(8, others);
    const workspace = workspaceWith(serviceYaml('tier-3'), busy);
    for (let push = 0; push < 2; push++) {
      const run = await runAction(workspace, {
        ...(await jobEnv(workspace, 'pull_request', 'refs/pull/8/merge')),
        'INPUT_GITHUB-TOKEN': 'ghs_write',
      });
      assert.equal(run.code, 0, run.stdout);
    }
    const ours = (api.comments.get(8) ?? []).filter((c) => c.body.startsWith('<!-- portolan-plan -->'));
    assert.equal(ours.length, 1, 'found on the second page, not added again');
    assert.equal(api.comments.get(8)?.length, 131);
  });

  it('on the default branch: applies and summarises', async () => {
    const id = unique('svc');
    const workspace = workspaceWith(serviceYaml('tier-2', repository, id), {
      repository: { default_branch: 'main' },
    });
    const applied = await runAction(workspace, await jobEnv(workspace, 'push', 'refs/heads/main'));
    assert.equal(applied.code, 0, applied.stdout);
    assert.equal(applied.outputs.applied, 'true');
    assert.equal(applied.outputs.create, '1');
    assert.match(applied.summary, /### Portolan applied for acme\/checkout/);
    assert.equal((await call('GET', `/v1/services/${id}`)).body.tier, 'tier-2');

    const otherBranch = await runAction(workspace, {
      ...(await jobEnv(workspace, 'push', 'refs/heads/feature')),
    });
    assert.equal(otherBranch.outputs.applied, 'false', 'another branch only plans');
    assert.equal(otherBranch.outputs.unchanged, '1');
  });

  it('turns document errors into annotations at file, line and column, and refusals into errors', async () => {
    const yaml = `apiVersion: portolan/v1\nentities:\n  - kind: service\n    id: x-svc\n    team: ${team}\n    tier: gold\n`;
    const workspace = workspaceWith(yaml, pullRequestEvent);
    const invalid = await runAction(workspace, await jobEnv(workspace, 'pull_request', 'refs/pull/7/merge'));
    assert.equal(invalid.code, 1);
    assert.match(invalid.stdout, /^::error file=portolan\.yaml,line=6,col=11::entities\[0\]\.tier: /m);
    assert.match(invalid.summary, /the catalog documents are invalid/);

    const broken = workspaceWith('apiVersion: portolan/v1\nentities: [\n', pullRequestEvent);
    const syntax = await runAction(broken, await jobEnv(broken, 'pull_request', 'refs/pull/7/merge'));
    assert.equal(syntax.code, 1);
    assert.match(syntax.stdout, /^::error file=portolan\.yaml,line=\d+,col=\d+::/m);

    const theirs = unique('svc');
    const foreign = workspaceWith(serviceYaml('tier-1', `github.com/${org}/other`, theirs), {
      repository: { default_branch: 'main' },
    });
    const refused = await runAction(foreign, await jobEnv(foreign, 'push', 'refs/heads/main'));
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, new RegExp(`::error::refused: put service/${theirs} \\(default-deny\\)`));
    assert.match(refused.summary, /the API refused the documents/);
    assert.equal((await call('GET', `/v1/services/${theirs}`)).status, 404);

    const workspaceNoToken = workspaceWith(serviceYaml('tier-1'), pullRequestEvent);
    const { ACTIONS_ID_TOKEN_REQUEST_URL: _, ...withoutToken } = await jobEnv(
      workspaceNoToken,
      'pull_request',
      'refs/pull/7/merge',
    );
    const noPermission = await runAction(workspaceNoToken, withoutToken);
    assert.equal(noPermission.code, 1);
    assert.match(
      noPermission.stdout,
      /::error::no OIDC token for this job: give it "permissions: id-token: write"/,
    );
  });

  it('is committed as built: rebuilding the bundle gives the same bytes', async () => {
    const rebuilt = join(mkdtempSync(join(tmpdir(), 'action-dist-')), 'index.mjs');
    await bundleAction(rebuilt);
    assert.ok(
      readFileSync(rebuilt).equals(readFileSync(actionBundle)),
      'action/dist/index.mjs is stale: run `npm run build:action` and commit it',
    );
  });
});
