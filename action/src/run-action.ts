/**
 * The Portolan GitHub Action: on a pull request, the plan as a job summary and
 * one pull request comment kept up to date; on the default branch, apply and
 * summarise. Document errors become annotations at their file, line and column;
 * refusals name the entity and the deciding statement. Authenticates with the
 * job's own OIDC token: nothing to store.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { AccessError } from '#cli/access-error';
import { ApiProblem, apiClient } from '#cli/api-client';
import { resolveAccess } from '#cli/credentials';
import { DocumentError, loadCatalog } from '#cli/load-documents';
import { explainProblem, type PlanReport, type Problem, renderPlan } from '#cli/render';
import { planMarkdown } from './plan-markdown.ts';
import { CommentFailed, upsertComment } from './pull-request-comment.ts';
import {
  annotation,
  appendSummary,
  booleanInput,
  input,
  type Location,
  setOutputs,
} from './workflow-commands.ts';

type Env = NodeJS.ProcessEnv;
type Write = (line: string) => void;

interface GithubEvent {
  pull_request?: { number?: number };
  repository?: { default_branch?: string };
}

function readEvent(env: Env): GithubEvent {
  if (!env.GITHUB_EVENT_PATH || !existsSync(env.GITHUB_EVENT_PATH)) return {};
  return JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as GithubEvent;
}

/** `portolan.yaml:15:11: entities[1].tier: …` → where, and what. */
function locate(problem: string, workspace: string): { message: string; at?: Location } {
  const match = /^(.+?):(\d+):(\d+): (.*)$/s.exec(problem) ?? /^([^:]+): (.*)$/s.exec(problem);
  if (!match?.[1] || !existsSync(match[1])) return { message: problem };
  const file = relative(workspace, resolve(match[1]));
  if (match.length === 3) return { message: match[2] ?? problem, at: { file } };
  return { message: match[4] ?? problem, at: { file, line: Number(match[2]), col: Number(match[3]) } };
}

function reportProblem(env: Env, write: Write, problem: ApiProblem, source: string) {
  const payload = problem.payload as unknown as Problem;
  for (const e of payload.errors ?? []) write(annotation('error', `${e.pointer}: ${e.detail}`));
  for (const r of payload.refused ?? [])
    write(annotation('error', `refused: ${r.action} ${r.ref} (${r.decidedBy}): ${r.reason}`));
  const explained = explainProblem(payload, source);
  write(annotation('error', explained));
  appendSummary(env, `### Portolan: the API refused the documents\n\n\`\`\`\n${explained}\n\`\`\``);
}

export async function runAction(env: Env, write: Write): Promise<number> {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const event = readEvent(env);
  const pullRequest = event.pull_request?.number;
  const defaultBranch = event.repository?.default_branch;
  const onDefaultBranch =
    pullRequest === undefined &&
    defaultBranch !== undefined &&
    env.GITHUB_REF === `refs/heads/${defaultBranch}`;
  let dryRun: boolean;
  let prune: boolean;
  let failOnChanges: boolean;
  try {
    dryRun = booleanInput(env, 'dry-run') || !onDefaultBranch;
    prune = booleanInput(env, 'prune');
    failOnChanges = booleanInput(env, 'fail-on-changes');
  } catch (error) {
    write(annotation('error', (error as Error).message));
    return 1;
  }
  const files = (input(env, 'files') || 'portolan.yaml')
    .split(/[\n,]/)
    .map((f) => f.trim())
    .filter(Boolean);

  let loaded: ReturnType<typeof loadCatalog>;
  try {
    loaded = loadCatalog(files);
  } catch (error) {
    if (!(error instanceof DocumentError)) throw error;
    for (const problem of error.problems) {
      const { message, at } = locate(problem, workspace);
      write(annotation('error', message, at));
    }
    appendSummary(
      env,
      `### Portolan: the catalog documents are invalid\n\n${error.problems.map((p) => `- \`${p.replace(/`/g, "'")}\``).join('\n')}`,
    );
    return 1;
  }
  for (const note of loaded.notes) write(annotation('notice', note));

  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL && !env.PORTOLAN_TOKEN) {
    write(
      annotation(
        'error',
        'no OIDC token for this job: give it "permissions: id-token: write" (pull requests from forks get none)',
      ),
    );
    return 1;
  }
  const audience = input(env, 'audience');
  const apiUrl = input(env, 'api-url');
  let report: PlanReport;
  let source = 'the GitHub Actions OIDC token';
  try {
    const access = resolveAccess(
      { ...(apiUrl ? { apiUrl } : {}) },
      { ...env, ...(audience ? { PORTOLAN_AUDIENCE: audience } : {}) },
    );
    source = access.source;
    const query = new URLSearchParams({
      ...(dryRun ? { dryRun: 'true' } : {}),
      ...(prune ? { prune: 'true' } : {}),
    });
    report = (await apiClient(access)(
      'POST',
      `/v1/apply${query.size ? `?${query}` : ''}`,
      loaded.document,
    )) as unknown as PlanReport;
  } catch (error) {
    if (error instanceof ApiProblem) reportProblem(env, write, error, source);
    else if (error instanceof AccessError) write(annotation('error', error.message));
    else throw error;
    return 1;
  }

  write(renderPlan(report));
  const { create, update, delete: del, unchanged } = report.summary;
  const changes = create + update + del;
  setOutputs(env, {
    create,
    update,
    delete: del,
    unchanged,
    changes,
    applied: String(!dryRun && changes > 0),
  });
  const where = env.GITHUB_REPOSITORY ? ` for ${env.GITHUB_REPOSITORY}` : '';
  const markdown = planMarkdown(report, dryRun ? `Portolan plan${where}` : `Portolan applied${where}`);
  const next =
    pullRequest !== undefined && defaultBranch && changes > 0
      ? `\n\nMerging into \`${defaultBranch}\` applies it.`
      : '';
  appendSummary(env, markdown + next);

  const token = input(env, 'github-token');
  if (pullRequest !== undefined && token && env.GITHUB_REPOSITORY) {
    try {
      const done = await upsertComment(
        {
          apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
          repository: env.GITHUB_REPOSITORY,
          number: pullRequest,
          token,
        },
        markdown + next,
      );
      write(`pull request comment ${done}`);
    } catch (error) {
      if (!(error instanceof CommentFailed)) throw error;
      write(annotation('warning', `no pull request comment: ${error.message}`));
    }
  }
  if (failOnChanges && dryRun && changes > 0) {
    write(annotation('error', `the catalog differs from the documents: ${changes} change(s) planned`));
    return 1;
  }
  return 0;
}
