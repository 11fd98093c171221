/** What the CLI prints for people: plans with colours on a terminal, problems with what to do next. */
import type { FieldChange, PlanAction } from '#shared/catalog/apply-plan';

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColour ? `\x1b[${code}m${text}\x1b[0m` : text);
const colours = { green: paint(32), yellow: paint(33), red: paint(31), dim: paint(2), bold: paint(1) };

const marks: Record<PlanAction, string> = {
  create: colours.green('+ create   '),
  update: colours.yellow('~ update   '),
  delete: colours.red('- delete   '),
  unchanged: colours.dim('= unchanged'),
};

export interface PlanReport {
  dryRun: boolean;
  summary: Record<PlanAction, number>;
  changes: { ref: string; action: PlanAction; diff?: FieldChange[]; version?: number }[];
}

const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));

export function renderPlan(report: PlanReport): string {
  const lines = report.changes.flatMap((c) => [
    `${marks[c.action]} ${c.ref}${c.version !== undefined && !report.dryRun ? colours.dim(` (version ${c.version})`) : ''}`,
    ...(c.diff ?? []).map(
      (d) => `      ${d.path}: ${colours.red(show(d.before))} → ${colours.green(show(d.after))}`,
    ),
  ]);
  const { create, update, delete: del, unchanged } = report.summary;
  const verb = report.dryRun ? 'Plan' : 'Applied';
  const changes = create + update + del;
  lines.push(
    '',
    colours.bold(
      `${verb}: ${create} to create, ${update} to update, ${del} to delete, ${unchanged} unchanged${
        report.dryRun && changes ? ' — run without --dry-run to apply' : ''
      }${!report.dryRun && changes === 0 ? ' — nothing to do' : ''}`,
    ),
  );
  return lines.join('\n');
}

export interface Problem {
  status: number;
  detail?: string;
  decidedBy?: string;
  errors?: { pointer: string; detail: string }[];
  refused?: { ref: string; action: string; decidedBy: string; reason: string }[];
}

/** The problem, and the next step for the ones a CI user meets. */
export function explainProblem(problem: Problem, source: string): string {
  const lines = [`${colours.red('error')} (${problem.status}): ${problem.detail ?? 'no detail'}`];
  for (const e of problem.errors ?? []) lines.push(`  ${e.pointer}: ${e.detail}`);
  for (const r of problem.refused ?? []) lines.push(`  refused: ${r.action} ${r.ref} — ${r.reason}`);
  const detail = problem.detail ?? '';
  let next: string | undefined;
  if (problem.status === 401 && /expired/i.test(detail))
    next = `the token from ${source} has expired: request a new one (tokens are short-lived by design)`;
  else if (problem.status === 401 && /audience/i.test(detail))
    next =
      'the token was issued for another audience: set PORTOLAN_AUDIENCE (GitHub Actions) to the audience the stack trusts';
  else if (problem.status === 401)
    next = `the API did not accept the token from ${source}: check the issuer is trusted by the stack`;
  else if (problem.status === 403 && /default deny/i.test(detail))
    next =
      'no policy allows this: request the scope it needs (PORTOLAN_SCOPE) or ask an admin for a policy matching your token';
  else if (problem.status === 403)
    next = `denied by ${problem.decidedBy ?? 'a policy'}: see GET /v1/whoami for what your token may do`;
  else if (problem.status === 412)
    next =
      'the catalog changed since the plan was made: run the command again to plan from the current state';
  if (next) lines.push(`${colours.bold('next:')} ${next}`);
  return lines.join('\n');
}
