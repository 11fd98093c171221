/** A tiny HTTP client for API tests: real requests to the local gateway with real tokens. */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mintToken, readLocalStack, tokenFor } from '../../support/local-stack.ts';

export const state = readLocalStack();
const tokens = new Map<string, Promise<string>>();

export type Client = 'ci' | 'admin' | 'reader';

export const token = (client: Client) => {
  let pending = tokens.get(client);
  if (!pending) {
    pending = tokenFor(state, client);
    tokens.set(client, pending);
  }
  return pending;
};

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

export async function call(
  method: string,
  path: string,
  options: { as?: Client; bearer?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const bearer = options.bearer === undefined ? await token(options.as ?? 'admin') : options.bearer;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${state.apiUrl}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** A unique id so test files sharing the local stack never collide. */
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export const teamDoc = (id: string, name = id) => ({
  id,
  name,
  contacts: { slack: `#${id}`, email: `${id}@acme.example` },
});

/** Statements of the GitHub Actions policy in docs/ci.md, for tests acting as a repository's CI job. */
export const jobStatements = {
  readCatalog: {
    sid: 'ReadCatalog',
    effect: 'allow',
    actions: ['catalog:Get*', 'catalog:List*'],
    resources: ['*'],
  },
  ownServices: {
    sid: 'OwnServices',
    effect: 'allow',
    actions: ['catalog:PutService', 'catalog:DeleteService'],
    resources: ['service/*'],
    conditions: { StringEquals: { 'resource.repository': `github.com/\${token.repository}` } },
  },
};

/** The claims of a GitHub Actions job of `owner/repo`. */
export const jobClaims = (owner: string, repo: string) => ({
  sub: `repo:${owner}/${repo}`,
  repository: `${owner}/${repo}`,
  repository_owner: owner,
});

/**
 * A team with the given repositories (`github.com/<owner>/<name>`) and a policy
 * for every job of `owner`; returns the token of the job of `owner/mine`.
 */
export async function repositoryJob(
  owner: string,
  team: string,
  repositories: string[],
  statements: object[],
) {
  assert.equal((await call('PUT', `/v1/teams/${team}`, { body: teamDoc(team) })).status, 201);
  for (const id of repositories) {
    const r = await call('PUT', `/v1/repositories/${encodeURIComponent(id)}`, { body: { team } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const policy = await call('PUT', `/v1/policies/${unique('own-repo')}`, {
    body: { principal: { repository_owner: owner }, statements },
  });
  assert.equal(policy.status, 201, JSON.stringify(policy.body));
  return mintToken(state, jobClaims(owner, 'mine'));
}

/**
 * Two repositories of one new team, `mine` and `theirs`, for tests of what a job of
 * `owner/mine` may claim; `put` remembers the services it creates for `removeCreated`.
 */
export function claimsFixture() {
  const owner = unique('org');
  const team = unique('team');
  const mine = `github.com/${owner}/mine`;
  const theirs = `github.com/${owner}/theirs`;
  const created: string[] = [];

  const put = async (id: string, body: Record<string, unknown>, bearer?: string) => {
    const r = await call('PUT', `/v1/services/${id}`, {
      body: { team, ...body },
      ...(bearer ? { bearer } : {}),
    });
    if (r.status === 201) created.push(id);
    return r;
  };
  /** The token of a job that may read the catalog, apply, and change the services of its own repository. */
  const job = () =>
    repositoryJob(
      owner,
      team,
      [mine, theirs],
      [
        jobStatements.readCatalog,
        { sid: 'Apply', effect: 'allow', actions: ['catalog:Apply'], resources: ['catalog'] },
        jobStatements.ownServices,
      ],
    );
  const removeCreated = async () => {
    for (const id of created.reverse()) await call('DELETE', `/v1/services/${id}`);
  };
  return { owner, team, mine, theirs, put, job, removeCreated };
}

/** The service `/v1/resolve` answers for `attributes`, asked as a reader. */
export async function resolvedService(attributes: Record<string, string>) {
  const r = await call('GET', `/v1/resolve?${new URLSearchParams(attributes)}`, { as: 'reader' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.match as { service?: string }).service;
}
