/**
 * The CI job's own workload identity: each major CI hands its jobs a short-lived
 * OIDC token about the pipeline (project, repository, branch), so no secret has
 * to be stored for Portolan. Which CI this is comes from the variables each one
 * sets on every job; how its token is obtained differs per CI.
 */
import { execFile } from 'node:child_process';
import { AccessError } from '#cli/access-error';

export interface CiIdentity {
  /** The CI's name, for messages: "the GitLab CI id token". */
  name: string;
  token(): Promise<string>;
}

type Env = NodeJS.ProcessEnv;

const needAudience = (env: Env, ci: string, issuer: string) => {
  const audience = env.PORTOLAN_AUDIENCE;
  if (!audience)
    throw new AccessError(
      `inside ${ci}: set PORTOLAN_AUDIENCE to the audience your Portolan stack trusts for ${issuer} (its oidcIssuers setting)`,
    );
  return audience;
};

/** How long a CI's token endpoint may take: a CI job should fail, not hang. */
const tokenRequestTimeoutMs = 30_000;

async function fetchJson(what: string, url: URL, init: RequestInit, hint: string) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(tokenRequestTimeoutMs) }).catch(
    (error: Error) => {
      throw new AccessError(
        `could not reach ${what}: ${(error.cause as Error | undefined)?.message ?? error.message}`,
      );
    },
  );
  if (!response.ok) throw new AccessError(`${what} refused a token (${response.status}): ${hint}`);
  return (await response.json().catch(() => ({}))) as Record<string, unknown>;
}

const present = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value.split('.').length !== 3)
    throw new AccessError(`${what} answered without a token`);
  return value;
};

/** GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` (job permission `id-token: write`). */
async function githubActions(env: Env): Promise<string> {
  const audience = needAudience(env, 'GitHub Actions', 'token.actions.githubusercontent.com');
  const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL as string);
  url.searchParams.set('audience', audience);
  const { value } = await fetchJson(
    "GitHub's OIDC token endpoint",
    url,
    { headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''}` } },
    'give the job "permissions: id-token: write"',
  );
  return present(value, 'GitHub');
}

/** Azure Pipelines: `POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=…` with the job's access token. */
async function azurePipelines(env: Env): Promise<string> {
  const connection = env.PORTOLAN_AZURE_SERVICE_CONNECTION_ID;
  if (!connection)
    throw new AccessError(
      'inside Azure Pipelines: set PORTOLAN_AZURE_SERVICE_CONNECTION_ID to the id of the service connection whose OIDC token Portolan trusts',
    );
  if (!env.SYSTEM_ACCESSTOKEN)
    throw new AccessError(
      'inside Azure Pipelines: map the job access token into the step, env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }',
    );
  const url = new URL(env.SYSTEM_OIDCREQUESTURI as string);
  url.searchParams.set('api-version', '7.1');
  url.searchParams.set('serviceConnectionId', connection);
  const { oidcToken } = await fetchJson(
    "Azure DevOps' OIDC token endpoint",
    url,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${env.SYSTEM_ACCESSTOKEN}`, 'content-type': 'application/json' },
    },
    'check the service connection id and that it uses workload identity federation',
  );
  return present(oidcToken, 'Azure DevOps');
}

/** Buildkite: `buildkite-agent oidc request-token --audience …`, the agent talks to Buildkite. */
function buildkite(env: Env): Promise<string> {
  const audience = needAudience(env, 'Buildkite', 'agent.buildkite.com');
  return new Promise((resolve, reject) => {
    execFile(
      'buildkite-agent',
      ['oidc', 'request-token', '--audience', audience],
      { env, timeout: tokenRequestTimeoutMs, maxBuffer: 64 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new AccessError(`buildkite-agent oidc request-token failed: ${stderr.trim() || error.message}`),
          );
        else {
          try {
            resolve(present(stdout.trim(), 'buildkite-agent'));
          } catch (refused) {
            reject(refused);
          }
        }
      },
    );
  });
}

/** A token the CI already put in a variable (GitLab's `id_tokens:`, CircleCI, Bitbucket). */
const fromVariable = (env: Env, variable: string, what: string) => async () =>
  present(env[variable], `${what} (${variable})`);

/** The CI this process runs in, if it offers a workload identity; undefined elsewhere. */
export function detectCiIdentity(env: Env): CiIdentity | undefined {
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL)
    return { name: 'the GitHub Actions OIDC token', token: () => githubActions(env) };
  if (env.GITLAB_CI === 'true') {
    // `id_tokens:` puts the token in a variable the job names; PORTOLAN_ID_TOKEN by convention.
    const variable = env.PORTOLAN_ID_TOKEN_VARIABLE ?? 'PORTOLAN_ID_TOKEN';
    if (env[variable])
      return { name: `the GitLab CI id token ${variable}`, token: fromVariable(env, variable, 'GitLab CI') };
  }
  if (env.CIRCLECI === 'true' && env.CIRCLE_OIDC_TOKEN_V2)
    return {
      name: 'the CircleCI OIDC token',
      token: fromVariable(env, 'CIRCLE_OIDC_TOKEN_V2', 'CircleCI'),
    };
  if (env.BUILDKITE === 'true') return { name: 'the Buildkite OIDC token', token: () => buildkite(env) };
  if (env.BITBUCKET_BUILD_NUMBER && env.BITBUCKET_STEP_OIDC_TOKEN)
    return {
      name: 'the Bitbucket Pipelines OIDC token',
      token: fromVariable(env, 'BITBUCKET_STEP_OIDC_TOKEN', 'Bitbucket Pipelines'),
    };
  if (env.TF_BUILD?.toLowerCase() === 'true' && env.SYSTEM_OIDCREQUESTURI)
    return { name: 'the Azure Pipelines OIDC token', token: () => azurePipelines(env) };
  return undefined;
}
