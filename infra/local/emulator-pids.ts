/**
 * The emulators a stack started, recorded in its state directory
 * (`emulators.json`), so that the next start on that directory recognises any
 * left behind by a stack that died without stopping them, and replaces them
 * instead of failing on their ports. (They exit by themselves when their parent
 * dies; this covers the seconds their last state write takes, and anything that
 * kept them from noticing.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '#infra/local/atomic-file';

const fileIn = (stateDir: string) => join(stateDir, 'emulators.json');
const launchers = /kinesis-mock-launcher\.cjs|DynamoDbLocalLauncher/;

export function recordEmulators(stateDir: string, pids: (number | undefined)[]) {
  const record = { parent: process.pid, pids: pids.filter((pid) => pid !== undefined) };
  writeFileAtomic(fileIn(stateDir), JSON.stringify(record));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The command line of a running process, or undefined when it is gone. */
function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    try {
      return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    } catch {
      return undefined;
    }
  }
}

export async function replaceLeftoverEmulators(stateDir: string, log: (line: string) => void) {
  const file = fileIn(stateDir);
  if (!existsSync(file)) return;
  let record: { parent: number; pids: number[] };
  try {
    record = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    rmSync(file, { force: true });
    return;
  }
  const ours = record.pids.filter((pid) => alive(pid) && launchers.test(commandOf(pid) ?? ''));
  if (ours.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  if (record.parent !== process.pid && alive(record.parent))
    throw new Error(
      `a local stack (process ${record.parent}) is running on ${stateDir}: stop it first, or use another --state-dir`,
    );
  log(
    `emulators left by a stack that did not stop them (processes ${ours.join(', ')}): waiting for them to exit`,
  );
  // Their last state write can take a while on a busy machine; killing them during it loses it.
  const deadline = Date.now() + 60_000;
  while (ours.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of ours.filter(alive)) {
    log(`process ${pid} did not exit; killing it`);
    process.kill(pid, 'SIGKILL');
  }
  while (ours.some(alive)) await new Promise((r) => setTimeout(r, 50));
  rmSync(file, { force: true });
}
