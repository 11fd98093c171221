/**
 * Every major CI's workload identity, end to end: a job's token shaped as that
 * CI documents it, minted by a local stand-in of its issuer (trusted by the
 * local stack), obtained by `portolan` from that CI's environment alone, and a
 * policy on that CI's claims that lets the job change its own entities and
 * nothing else.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  bitbucketWorkspaceUuid,
  type CiJob,
  type CiProvider,
  ciIssuers,
  circleciOrgId,
  requestedAudience,
  startCiJob,
} from '../../support/ci-issuers.ts';
import { call, state, teamDoc, unique } from '../api/api-client.ts';

/** `buildkite-agent oidc request-token`, as the real agent does it: its job API, with the agent's token. */
const fakeBuildkiteAgent = `#!/usr/bin/env node
const [command, subcommand, flag, audience] = process.argv.slice(2);
if (command !== 'oidc' || subcommand !== 'request-token' || flag !== '--audience') {
  console.error('fake buildkite-agent: unsupported ' + process.argv.slice(2).join(' '));
  process.exit(2);
}
fetch(process.env.BUILDKITE_AGENT_ENDPOINT + '/jobs/' + process.env.BUILDKITE_JOB_ID + '/oidc/tokens', {
  method: 'POST',
  headers: { authorization: 'Token ' + process.env.BUILDKITE_AGENT_ACCESS_TOKEN, 'content-type': 'application/json' },
  body: JSON.stringify({ audience }),
})
  .then(async (response) => {
    if (!response.ok) throw new Error('agent API answered ' + response.status);
    console.log((await response.json()).token);
  })
  .catch((error) => {
    console.error('fatal: ' + error.message);
    process.exit(1);
  });
`;

function fakeAgentPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portolan-buildkite-'));
  mkdirSync(join(dir, 'bin'));
  const agent = join(dir, 'bin', 'buildkite-agent');
  writeFileSync(agent, fakeBuildkiteAgent);
  chmodSync(agent, 0o755);
  return join(dir, 'bin');
}

/**
 * The CLI in a child process, without blocking this one: a blocked event loop
 * would miss the gateway closing idle keep-alive sockets, and the next request
 * here would be sent on a closed one.
 */
function portolan(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['bin/portolan.js', ...args], {
    env: {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      PORTOLAN_LOCAL_STATE: '/nonexistent',
      PORTOLAN_API_URL: state.apiUrl,
      // The stand-in issuers serve HTTPS with the local stack's dev CA.
      NODE_EXTRA_CA_CERTS: state.caFile,
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

interface Names {
  org: string;
  project: string;
}

interface CiCase {
  provider: CiProvider;
  title: string;
  /** The repository ids a job of `project` owns. */
  repository: (n: Names) => string;
  /** The job's claims, as the CI documents them. */
  claims: (n: Names) => Record<string, unknown>;
  /** Claims of another job of the same CI that the policy must not let in. */
  stranger: (n: Names) => Record<string, unknown>;
  /** The policy an admin writes for this CI: principal on its claims, own repository only. */
  policy: (n: Names, issuer: string) => Record<string, unknown>;
  /** The job's environment once its CI has given it `job`. */
  env: (job: CiJob) => Record<string, string>;
}

const putServices = (sid: string, repositoryIs: string) => ({
  sid,
  effect: 'allow',
  actions: ['catalog:PutService'],
  resources: ['service/*'],
  conditions: { StringEquals: { 'resource.repository': repositoryIs } },
});

/** Apply needs its own permission; documents without a scope are applied on `catalog`. */
const applyDocuments = { sid: 'Apply', effect: 'allow', actions: ['catalog:Apply'], resources: ['catalog'] };

const azureServiceConnection = '2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a';
const sha = 'a3f1c9e0b7d24c5f8e6a1b2c3d4e5f60718293a4';

const cases: CiCase[] = [
  {
    provider: 'github',
    title: 'GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL)',
    repository: (n) => `github.com/${n.org}/${n.project}`,
    claims: (n) => ({
      sub: `repo:${n.org}/${n.project}:ref:refs/heads/main`,
      repository: `${n.org}/${n.project}`,
      repository_owner: n.org,
      repository_id: '690123',
      repository_owner_id: '4012',
      repository_visibility: 'private',
      ref: 'refs/heads/main',
      ref_type: 'branch',
      sha,
      workflow: 'ownership',
      workflow_ref: `${n.org}/${n.project}/.github/workflows/ownership.yml@refs/heads/main`,
      job_workflow_ref: `${n.org}/${n.project}/.github/workflows/ownership.yml@refs/heads/main`,
      event_name: 'push',
      actor: 'octocat',
      actor_id: '583231',
      run_id: '9012345678',
      run_number: '17',
      run_attempt: '1',
      runner_environment: 'github-hosted',
    }),
    stranger: (n) => ({
      sub: `repo:${n.org}/${n.project}:ref:refs/heads/feature`,
      repository: `${n.org}/${n.project}`,
      repository_owner: n.org,
      ref: 'refs/heads/feature',
    }),
    policy: (n, iss) => ({
      principal: { iss, repository_owner: n.org, ref: 'refs/heads/main' },
      statements: [applyDocuments, putServices('OwnRepository', `github.com/\${token.repository}`)],
    }),
    env: (job) => ({ ...job.env, GITHUB_ACTIONS: 'true', PORTOLAN_AUDIENCE: requestedAudience }),
  },
  {
    provider: 'gitlab',
    title: 'GitLab CI (id_tokens: in PORTOLAN_ID_TOKEN)',
    repository: (n) => `gitlab.com/${n.org}/${n.project}`,
    claims: (n) => ({
      sub: `project_path:${n.org}/${n.project}:ref_type:branch:ref:main`,
      namespace_id: '72',
      namespace_path: n.org,
      project_id: '4711',
      project_path: `${n.org}/${n.project}`,
      project_visibility: 'private',
      user_id: '12',
      user_login: 'jdoe',
      user_email: 'jdoe@acme.example',
      pipeline_id: '1203',
      pipeline_source: 'push',
      job_id: '50211',
      ref: 'main',
      ref_type: 'branch',
      ref_path: 'refs/heads/main',
      ref_protected: 'true',
      runner_id: '8',
      runner_environment: 'gitlab-hosted',
      sha,
      ci_config_ref_uri: `gitlab.com/${n.org}/${n.project}//.gitlab-ci.yml@refs/heads/main`,
      ci_config_sha: sha,
    }),
    stranger: (n) => ({
      sub: `project_path:${n.org}/${n.project}:ref_type:branch:ref:feature`,
      namespace_path: n.org,
      project_path: `${n.org}/${n.project}`,
      ref: 'feature',
      ref_type: 'branch',
      ref_protected: 'false',
    }),
    policy: (n, iss) => ({
      principal: { iss, namespace_path: n.org, ref_type: 'branch', ref_protected: 'true' },
      statements: [applyDocuments, putServices('OwnProject', `gitlab.com/\${token.project_path}`)],
    }),
    env: (job) => ({ GITLAB_CI: 'true', CI: 'true', PORTOLAN_ID_TOKEN: job.token ?? '' }),
  },
  {
    provider: 'circleci',
    title: 'CircleCI (CIRCLE_OIDC_TOKEN_V2)',
    repository: (n) => `github.com/${n.org}/${n.project}`,
    claims: (n) => {
      const projectId = `e1b9c2d0-5f3a-4c6e-8d7b-${n.project.slice(-8).padStart(12, '0')}`;
      return {
        sub: `org/${circleciOrgId}/project/${projectId}/user/0c9e8d7a-1b2c-4d3e-9f8a-7b6c5d4e3f21/vcs-origin/github.com/${n.org}/${n.project}/vcs-ref/refs/heads/main`,
        'oidc.circleci.com/project-id': projectId,
        'oidc.circleci.com/context-ids': ['3d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d'],
        'oidc.circleci.com/vcs-origin': `github.com/${n.org}/${n.project}`,
        'oidc.circleci.com/vcs-ref': 'refs/heads/main',
        'oidc.circleci.com/ssh-rerun': false,
      };
    },
    stranger: (n) => ({
      sub: `org/${circleciOrgId}/project/00000000-0000-4000-8000-000000000000/user/x/vcs-origin/github.com/${n.org}/other/vcs-ref/refs/heads/main`,
      'oidc.circleci.com/project-id': '00000000-0000-4000-8000-000000000000',
      'oidc.circleci.com/vcs-origin': `github.com/${n.org}/other`,
      'oidc.circleci.com/vcs-ref': 'refs/heads/main',
    }),
    policy: (n, iss) => ({
      principal: {
        iss,
        'oidc.circleci.com/project-id': `e1b9c2d0-5f3a-4c6e-8d7b-${n.project.slice(-8).padStart(12, '0')}`,
        'oidc.circleci.com/vcs-ref': 'refs/heads/main',
      },
      statements: [applyDocuments, putServices('OwnProject', `github.com/${n.org}/${n.project}`)],
    }),
    env: (job) => ({
      CIRCLECI: 'true',
      CI: 'true',
      CIRCLE_OIDC_TOKEN_V2: job.token ?? '',
      CIRCLE_OIDC_TOKEN: job.token ?? '',
    }),
  },
  {
    provider: 'buildkite',
    title: 'Buildkite (buildkite-agent oidc request-token)',
    repository: (n) => `github.com/${n.org}/${n.project}`,
    claims: (n) => ({
      sub: `organization:${n.org}:pipeline:${n.project}:ref:refs/heads/main:commit:${sha}:step:portolan`,
      organization_slug: n.org,
      pipeline_slug: n.project,
      build_number: 42,
      build_branch: 'main',
      build_commit: sha,
      build_source: 'webhook',
      step_key: 'portolan',
      job_id: randomUUID(),
      agent_id: randomUUID(),
      runner_environment: 'self-hosted',
    }),
    stranger: (n) => ({
      sub: `organization:${n.org}:pipeline:other:ref:refs/heads/main:commit:${sha}:step:portolan`,
      organization_slug: n.org,
      pipeline_slug: 'other',
      build_branch: 'main',
    }),
    policy: (n, iss) => ({
      principal: { iss, organization_slug: n.org, build_branch: 'main' },
      statements: [
        applyDocuments,
        putServices('OwnPipeline', `github.com/\${token.organization_slug}/\${token.pipeline_slug}`),
      ],
    }),
    env: (job) => ({
      ...job.env,
      PATH: `${fakeAgentPath()}:${process.env.PATH}`,
      PORTOLAN_AUDIENCE: requestedAudience,
    }),
  },
  {
    provider: 'bitbucket',
    title: 'Bitbucket Pipelines (BITBUCKET_STEP_OIDC_TOKEN)',
    repository: (n) => `bitbucket.org/${n.org}/${n.project}`,
    claims: (n) => {
      const repositoryUuid = `{${n.project.slice(-8)}-2b1c-4d3e-8f4a-5b6c7d8e9f01}`;
      const stepUuid = '{6f5e4d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f}';
      return {
        sub: `${repositoryUuid}:${stepUuid}`,
        accountUuid: '{0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d}',
        workspaceUuid: bitbucketWorkspaceUuid,
        repositoryUuid,
        pipelineUuid: '{1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f}',
        stepUuid,
        branchName: 'main',
      };
    },
    stranger: () => ({
      sub: '{99999999-2b1c-4d3e-8f4a-5b6c7d8e9f01}:{6f5e4d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f}',
      workspaceUuid: bitbucketWorkspaceUuid,
      repositoryUuid: '{99999999-2b1c-4d3e-8f4a-5b6c7d8e9f01}',
      branchName: 'main',
    }),
    policy: (n, iss) => ({
      principal: {
        iss,
        repositoryUuid: `{${n.project.slice(-8)}-2b1c-4d3e-8f4a-5b6c7d8e9f01}`,
        branchName: 'main',
      },
      statements: [applyDocuments, putServices('OwnRepository', `bitbucket.org/${n.org}/${n.project}`)],
    }),
    env: (job) => ({ CI: 'true', BITBUCKET_BUILD_NUMBER: '31', BITBUCKET_STEP_OIDC_TOKEN: job.token ?? '' }),
  },
  {
    provider: 'azure',
    title: 'Azure Pipelines (SYSTEM_OIDCREQUESTURI)',
    repository: (n) => `dev.azure.com/${n.org}/${n.project}`,
    claims: (n) => ({ sub: `sc://${n.org}/${n.project}/portolan` }),
    stranger: (n) => ({ sub: `sc://${n.org}/other/portolan` }),
    policy: (n, iss) => ({
      principal: { iss, sub: `sc://${n.org}/${n.project}/portolan` },
      statements: [applyDocuments, putServices('OwnProject', `dev.azure.com/${n.org}/${n.project}`)],
    }),
    env: (job) => ({ ...job.env, PORTOLAN_AZURE_SERVICE_CONNECTION_ID: azureServiceConnection }),
  },
];

const jobOptions = (provider: CiProvider) =>
  provider === 'azure' ? { serviceConnectionId: azureServiceConnection } : {};

describe("each CI's workload identity with a claim-bound policy", () => {
  for (const ci of cases) {
    it(`${ci.title}: its own entities, nothing else`, async () => {
      const names = { org: unique('acme'), project: unique('checkout') };
      const team = unique('team');
      const own = ci.repository(names);
      const other = `${own.slice(0, own.lastIndexOf('/'))}/other-${names.project}`;
      assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
      for (const repository of [own, other])
        assert.equal((await call('PUT', `/v1/repositories/${repository}`, { body: { team } })).status, 201);
      const { issuer } = ciIssuers().issuers[ci.provider];
      const policy = await call('PUT', `/v1/policies/${unique(ci.provider)}`, {
        body: ci.policy(names, issuer),
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));

      const job = await startCiJob(ci.provider, ci.claims(names), jobOptions(ci.provider));
      const whoami = await portolan(['whoami', '--output', 'json'], ci.env(job));
      assert.equal(whoami.code, 0, whoami.stderr);
      const { principal } = JSON.parse(whoami.stdout);
      assert.equal(principal.issuer, issuer);
      assert.equal(principal.subject, ci.claims(names).sub);

      const [mine, theirs] = [unique('svc'), unique('svc')];
      const dir = mkdtempSync(join(tmpdir(), 'portolan-ci-'));
      const write = (services: [string, string][]) => {
        const file = join(dir, `${randomUUID()}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            apiVersion: 'portolan/v1',
            entities: services.map(([id, repository]) => ({ kind: 'service', id, team, repository })),
          }),
        );
        return file;
      };
      const both = write([
        [mine, own],
        [theirs, other],
      ]);
      const refused = await portolan(['apply', '-f', both], ci.env(job));
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`refused: put service/${theirs}`));
      assert.doesNotMatch(refused.stderr, new RegExp(`refused: put service/${mine}`));
      assert.equal((await call('GET', `/v1/services/${mine}`)).status, 404, 'nothing written');

      const applied = await portolan(['apply', '-f', write([[mine, own]])], ci.env(job));
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal((await call('GET', `/v1/services/${mine}`)).body.repository, own);

      const stranger = await startCiJob(ci.provider, ci.stranger(names), jobOptions(ci.provider));
      const strangers = await portolan(['apply', '-f', write([[unique('svc'), own]])], ci.env(stranger));
      assert.equal(strangers.code, 1, `another ${ci.provider} job is refused: ${strangers.stderr}`);
      assert.match(strangers.stderr, /error \(403\)/);
    });
  }

  it('says what is missing when a CI is detected but cannot give a token', async () => {
    const gitlab = await portolan(['whoami'], {
      GITLAB_CI: 'true',
      PORTOLAN_ID_TOKEN_VARIABLE: 'MY_ID_TOKEN',
    });
    assert.equal(gitlab.code, 3, 'no token in the named variable: no CI identity, and no other credentials');
    assert.match(gitlab.stderr, /no credentials/);

    const azure = await startCiJob('azure', { sub: 'sc://acme/x/portolan' }, { serviceConnectionId: 'abc' });
    const noConnection = await portolan(['whoami'], azure.env);
    assert.equal(noConnection.code, 3);
    assert.match(noConnection.stderr, /set PORTOLAN_AZURE_SERVICE_CONNECTION_ID/);
    const wrongConnection = await portolan(['whoami'], {
      ...azure.env,
      PORTOLAN_AZURE_SERVICE_CONNECTION_ID: 'xyz',
    });
    assert.equal(wrongConnection.code, 3);
    assert.match(wrongConnection.stderr, /Azure DevOps' OIDC token endpoint refused a token \(404\)/);

    const buildkite = await startCiJob('buildkite', { sub: 'organization:acme:pipeline:x' });
    const noAudience = await portolan(['whoami'], {
      ...buildkite.env,
      PATH: `${fakeAgentPath()}:${process.env.PATH}`,
    });
    assert.equal(noAudience.code, 3);
    assert.match(noAudience.stderr, /inside Buildkite: set PORTOLAN_AUDIENCE/);
    const badAgent = await portolan(['whoami'], {
      ...buildkite.env,
      BUILDKITE_AGENT_ACCESS_TOKEN: 'wrong',
      PATH: `${fakeAgentPath()}:${process.env.PATH}`,
      PORTOLAN_AUDIENCE: requestedAudience,
    });
    assert.equal(badAgent.code, 3);
    assert.match(badAgent.stderr, /buildkite-agent oidc request-token failed: fatal: agent API answered 401/);
  });

  it("uses the variable a GitLab job names, and trusts only the issuer's own key", async () => {
    const names = { org: unique('acme'), project: unique('checkout') };
    const gitlab = cases.find((c) => c.provider === 'gitlab') as CiCase;
    const job = await startCiJob('gitlab', gitlab.claims(names));
    const named = await portolan(['whoami', '--output', 'json'], {
      GITLAB_CI: 'true',
      PORTOLAN_ID_TOKEN_VARIABLE: 'GITLAB_OIDC_TOKEN',
      GITLAB_OIDC_TOKEN: job.token ?? '',
    });
    assert.equal(named.code, 0, named.stderr);
    assert.equal(JSON.parse(named.stdout).principal.claims.project_path, `${names.org}/${names.project}`);

    // The GitLab stand-in's claims with another CI's issuer: that issuer's key did not sign it.
    const [header, payload, signature] = (job.token ?? '').split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    const { circleci } = ciIssuers().issuers;
    const forged = [
      header,
      Buffer.from(JSON.stringify({ ...claims, iss: circleci.issuer, aud: circleci.audience })).toString(
        'base64url',
      ),
      signature,
    ].join('.');
    const refused = await portolan(['whoami'], { PORTOLAN_TOKEN: forged });
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /error \(401\)/);
  });
});
