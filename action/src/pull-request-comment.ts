/**
 * One Portolan comment per pull request, updated in place on every push: found
 * by a hidden marker among the pull request's comments (GitHub's REST API at
 * `GITHUB_API_URL`), edited when there, created otherwise.
 */
export const commentMarker = '<!-- portolan-plan -->';

/** Comments read while looking for ours: 20 pages of 100. */
const maxPages = 20;

export interface PullRequest {
  apiUrl: string;
  /** `owner/name` */
  repository: string;
  number: number;
  token: string;
}

export class CommentFailed extends Error {
  override name = 'CommentFailed';
}

async function github(pr: PullRequest, method: string, path: string, body?: unknown) {
  const response = await fetch(`${pr.apiUrl.replace(/\/$/, '')}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${pr.token}`,
      'x-github-api-version': '2022-11-28',
      'user-agent': 'portolan-action',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  }).catch((error: Error) => {
    throw new CommentFailed(`cannot reach ${pr.apiUrl}: ${(error.cause as Error)?.message ?? error.message}`);
  });
  if (!response.ok) {
    const hint =
      response.status === 403 || response.status === 404 ? ' (give the job pull-requests: write)' : '';
    throw new CommentFailed(`${method} ${path} answered ${response.status}${hint}`);
  }
  return response.json() as Promise<unknown>;
}

/** Creates or updates the pull request's Portolan comment; says which it did. */
export async function upsertComment(pr: PullRequest, markdown: string): Promise<'created' | 'updated'> {
  const body = `${commentMarker}\n${markdown}`;
  const issue = `/repos/${pr.repository}/issues`;
  for (let page = 1; page <= maxPages; page++) {
    const comments = (await github(
      pr,
      'GET',
      `${issue}/${pr.number}/comments?per_page=100&page=${page}`,
    )) as {
      id: number;
      body?: string;
    }[];
    const ours = comments.find((c) => c.body?.startsWith(commentMarker));
    if (ours) {
      await github(pr, 'PATCH', `${issue}/comments/${ours.id}`, { body });
      return 'updated';
    }
    if (comments.length < 100) break;
  }
  await github(pr, 'POST', `${issue}/${pr.number}/comments`, { body });
  return 'created';
}
