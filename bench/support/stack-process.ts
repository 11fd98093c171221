/**
 * The local stack in its own process, as `npm start` runs it, so a benchmark's
 * load generator does not share the stack's event loop. In memory, free ports.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStackState } from '#infra/local/local-stack';

export async function startStackProcess(
  env: NodeJS.ProcessEnv = {},
): Promise<{ state: LocalStackState; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'portolan-bench-'));
  const ports = Object.fromEntries(
    ['API', 'ISSUER', 'DYNAMODB', 'KINESIS', 'KINESIS_TLS'].map((n) => [`PORTOLAN_${n}_PORT`, '0']),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'infra/local/start.ts', '--in-memory', '--no-seed', '--state-dir', dir],
    { env: { ...process.env, ...ports, ...env }, stdio: 'ignore' },
  );
  const stateFile = join(dir, 'local.json');
  for (let waited = 0; !existsSync(stateFile); waited += 200) {
    if (waited > 120_000 || child.exitCode !== null) throw new Error('the local stack did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
  return { state: JSON.parse(readFileSync(stateFile, 'utf8')) as LocalStackState, stop };
}
