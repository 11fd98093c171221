/** Measuring a bundle's cold start: import + init in a fresh Node process. */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { projectRoot } from '#infra/constructs/portolan-function';

/** What each handler reads at init; values only need the right shape (nothing is called at import). */
export const handlerInitEnv = {
  CATALOG_TABLE: 'catalog',
  AUDIT_TABLE: 'audit',
  OUTPUT_STREAM: 'out',
  AWS_REGION: 'us-east-1',
  TRUSTED_ISSUERS: JSON.stringify([
    { type: 'cognito', userPoolId: 'us-east-1_abcdefghi', clientId: null, tokenUse: 'access' },
  ]),
};

/** Milliseconds from a fresh process's first line to the module `file` being imported and initialised. */
export function importTime(file: string, env: Record<string, string>): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env },
    cwd: projectRoot,
    encoding: 'utf8',
  });
  return Number(out.trim().split('\n').at(-1));
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
export const kb = (file: string) => statSync(file).size / 1024;
