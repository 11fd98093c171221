/**
 * How a JavaScript action talks to the GitHub Actions runner: inputs from
 * `INPUT_*`, outputs and the job summary through the files the runner names
 * (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), annotations as workflow commands on
 * stdout, escaped as the runner expects.
 */
import { appendFileSync } from 'node:fs';

type Env = NodeJS.ProcessEnv;

/** The runner passes `with: { dry-run: true }` as `INPUT_DRY-RUN`. */
export const input = (env: Env, name: string): string =>
  (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();

export function booleanInput(env: Env, name: string): boolean {
  const value = input(env, name).toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new Error(`input ${name} must be true or false, not ${JSON.stringify(value)}`);
}

const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

export interface Location {
  file: string;
  line?: number;
  col?: number;
}

export function annotation(level: 'error' | 'warning' | 'notice', message: string, at?: Location): string {
  const properties = at
    ? Object.entries({ file: at.file, line: at.line, col: at.col })
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
        .join(',')
    : '';
  return `::${level}${properties ? ` ${properties}` : ''}::${escapeData(message)}`;
}

export function setOutputs(env: Env, outputs: Record<string, string | number>) {
  if (!env.GITHUB_OUTPUT) return;
  appendFileSync(
    env.GITHUB_OUTPUT,
    Object.entries(outputs)
      .map(([name, value]) => `${name}=${String(value).replace(/[\r\n]/g, ' ')}\n`)
      .join(''),
  );
}

export function appendSummary(env: Env, markdown: string) {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
}
