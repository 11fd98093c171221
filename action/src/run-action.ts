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

/** The step fails; what went wrong has been written as annotations already. */
class StepFailed extends Error {}

interface Settings {
  workspace: string;
  files: string[];
  dryRun: boolean;
  prune: boolean;
  failOnChanges: boolean;
  pullRequest?: number;
  defaultBranch?: string;
}

/** What this run does: plan on a pull request or another branch, apply on the default branch. */
function settings(env: Env, write: Write): Settings {
  const event = readEvent(env);
  const pullRequest = event.pull_request?.number;
  const defaultBranch = event.repository?.default_branch;
  const onDefaultBranch =
    pullRequest === undefined &&
    defaultBranch !== undefined &&
    env.GITHUB_REF === `refs/heads/${defaultBranch}`;
  try {
    return {
      workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
      files: (input(env, 'files') || 'portolan.yaml')
        .split(/[\n,]/)
        .map((f) => f.trim())
        .filter(Boolean),
      dryRun: booleanInput(env, 'dry-run') || !onDefaultBranch,
      prune: booleanInput(env, 'prune'),
      failOnChanges: booleanInput(env, 'fail-on-changes'),
      ...(pullRequest !== undefined ? { pullRequest } : {}),
      ...(defaultBranch !== undefined ? { defaultBranch } : {}),
    };
  } catch (error) {
    write(annotation('error', (error as Error).message));
    throw new StepFailed();
  }
}

function loadDocuments(run: Settings, env: Env, write: Write) {
  try {
    const loaded = loadCatalog(run.files);
    for (const note of loaded.notes) write(annotation('notice', note));
    return loaded.document;
  } catch (error) {
    if (!(error instanceof DocumentError)) throw error;
    for (const problem of error.problems) {
      const { message, at } = locate(problem, run.workspace);
      write(annotation('error', message, at));
    }
    const list = error.problems.map((p) => `- \`${p.replace(/`/g, "'")}\``).join('\n');
    appendSummary(env, `### Portolan: the catalog documents are invalid\n\n${list}`);
    throw new StepFailed();
  }
}

async function applyDocuments(run: Settings, env: Env, write: Write, document: unknown): Promise<PlanReport> {
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL && !env.PORTOLAN_TOKEN) {
    write(
      annotation(
        'error',
        'no OIDC token for this job: give it "permissions: id-token: write" (pull requests from forks get none)',
      ),
    );
    throw new StepFailed();
  }
  const audience = input(env, 'audience');
  const apiUrl = input(env, 'api-url');
  let source = 'the GitHub Actions OIDC token';
  try {
    const access = resolveAccess(
      { ...(apiUrl ? { apiUrl } : {}) },
      { ...env, ...(audience ? { PORTOLAN_AUDIENCE: audience } : {}) },
    );
    source = access.source;
    const query = new URLSearchParams({
      ...(run.dryRun ? { dryRun: 'true' } : {}),
      ...(run.prune ? { prune: 'true' } : {}),
    });
    const path = `/v1/apply${query.size ? `?${query}` : ''}`;
    return (await apiClient(access)('POST', path, document)) as unknown as PlanReport;
  } catch (error) {
    if (error instanceof ApiProblem) {
      const payload = error.payload as unknown as Problem;
      for (const e of payload.errors ?? []) write(annotation('error', `${e.pointer}: ${e.detail}`));
      for (const r of payload.refused ?? [])
        write(annotation('error', `refused: ${r.action} ${r.ref} (${r.decidedBy}): ${r.reason}`));
      const explained = explainProblem(payload, source);
      write(annotation('error', explained));
      appendSummary(env, `### Portolan: the API refused the documents\n\n\`\`\`\n${explained}\n\`\`\``);
    } else if (error instanceof AccessError) write(annotation('error', error.message));
    else throw error;
    throw new StepFailed();
  }
}

/** The plan or what was applied: log, outputs, job summary and, on a pull request, its comment. */
async function publish(run: Settings, env: Env, write: Write, report: PlanReport) {
  write(renderPlan(report));
  const { create, update, delete: del, unchanged } = report.summary;
  const changes = create + update + del;
  const applied = !run.dryRun && changes > 0;
  setOutputs(env, { create, update, delete: del, unchanged, changes, applied: String(applied) });
  const where = env.GITHUB_REPOSITORY ? ` for ${env.GITHUB_REPOSITORY}` : '';
  const markdown = planMarkdown(report, run.dryRun ? `Portolan plan${where}` : `Portolan applied${where}`);
  const next =
    run.pullRequest !== undefined && run.defaultBranch && changes > 0
      ? `\n\nMerging into \`${run.defaultBranch}\` applies it.`
      : '';
  appendSummary(env, markdown + next);

  const token = input(env, 'github-token');
  if (run.pullRequest === undefined || !token || !env.GITHUB_REPOSITORY) return;
  try {
    const pr = {
      apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
      repository: env.GITHUB_REPOSITORY,
      number: run.pullRequest,
      token,
    };
    write(`pull request comment ${await upsertComment(pr, markdown + next)}`);
  } catch (error) {
    if (!(error instanceof CommentFailed)) throw error;
    write(annotation('warning', `no pull request comment: ${error.message}`));
  }
}

export async function runAction(env: Env, write: Write): Promise<number> {
  try {
    const run = settings(env, write);
    const report = await applyDocuments(run, env, write, loadDocuments(run, env, write));
    await publish(run, env, write, report);
    const changes = report.summary.create + report.summary.update + report.summary.delete;
    if (run.failOnChanges && run.dryRun && changes > 0) {
      write(annotation('error', `the catalog differs from the documents: ${changes} change(s) planned`));
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof StepFailed) return 1;
    throw error;
  }
}
