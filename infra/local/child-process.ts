/**
 * Child processes of the local stack (DynamoDB Local, kinesis-mock): started with
 * their output kept for error messages, stopped in order by the parent, and never
 * outliving it — even when the parent dies without cleaning up (`kill -9`). Each
 * runs in its own process group, so that a Ctrl-C reaches the parent alone and the
 * parent stops them in an order that loses nothing; each child's launcher watches
 * its stdin, a pipe from the parent that reaches end of file when the parent dies,
 * and shuts its emulator down then.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { waitUntil } from '#infra/local/ports';

export interface ManagedChild {
  name: string;
  process: ChildProcess;
  /** The last lines the child wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A synchronous last resort: 'exit' handlers cannot wait, and need not: detached, the
// children finish their own shutdown (with their last state write) after this process is gone.
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

export function startChild(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stopTimeoutMs?: number } = {},
): ManagedChild {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PORTOLAN_PARENT_PIPE: 'stdin' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  // Never written to: the pipe exists to close when this process dies.
  child.stdin?.on('error', () => undefined);
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  child.once('error', (error) => lines.push(`${name} could not start: ${error.message}`));

  return {
    name,
    process: child,
    output: () => lines.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Waits until `probe` succeeds against the child (polling), and rejects with
 * what it printed if it exits first; a child that never became ready is stopped.
 */
export async function readyOrExit(child: ManagedChild, probe: () => Promise<unknown>): Promise<void> {
  const died = new Promise<never>((_, reject) =>
    child.process.once('exit', (code) =>
      reject(new Error(`${child.name} exited (code ${code}) before it was ready:\n${child.output()}`)),
    ),
  );
  const gaveUp = new AbortController();
  try {
    await Promise.race([waitUntil(child.name, probe, 60_000, gaveUp.signal), died]);
  } catch (error) {
    await child.stop();
    throw error;
  } finally {
    gaveUp.abort();
  }
}
