/**
 * The local stack as a developer runs it — `npm start` in its own process, on a
 * state directory that outlives it — with a producer putting records while it is
 * stopped, killed and started again. Shared by the durability tests and
 * `npm run bench:durability`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type _Record, type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type LocalStackState, localKinesisClient } from '#infra/local/local-state';
import { openStreamReader } from '#infra/local/stream-reader';

/** Five ports free now, kept for every start of one stack (a restart must get its ports back). */
export async function freePorts(): Promise<NodeJS.ProcessEnv> {
  const names = ['API', 'ISSUER', 'DYNAMODB', 'KINESIS', 'KINESIS_TLS'];
  const servers = names.map(() => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve) =>
          server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
        ),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return Object.fromEntries(names.map((name, i) => [`PORTOLAN_${name}_PORT`, String(ports[i])]));
}

export interface StackProcess {
  process: ChildProcess;
  state: LocalStackState;
  /** DynamoDB Local's and kinesis-mock's process ids. */
  emulatorPids: number[];
  output(): string;
  exited: Promise<void>;
}

/** Starts `npm start`'s process; `detached` puts it in a process group of its own, as a terminal does. */
export async function startStackProcess(
  stateDir: string,
  env: NodeJS.ProcessEnv,
  options: { detached?: boolean } = {},
): Promise<StackProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'infra/local/start.ts', '--no-seed', '--state-dir', stateDir],
    {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  while (!output.includes('local stack is up')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the local stack did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const state = JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as LocalStackState;
  const emulators = join(stateDir, 'emulators.json');
  const emulatorPids = existsSync(emulators)
    ? (JSON.parse(readFileSync(emulators, 'utf8')) as { pids: number[] }).pids
    : [];
  return { process: child, state, emulatorPids, output: () => output, exited };
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** What a producer put: each record's partition key (its identity) and when it was acknowledged. */
export type Acknowledged = Map<string, number>;

/**
 * Puts records (JSON lines, OTLP protobuf, garbage) in calls of `chunk` until
 * `stop()` is called or a put fails (the stack went away); every key the stream
 * acknowledged is recorded with the time it was.
 */
export function produce(
  client: KinesisClient,
  streamName: string,
  keyPrefix: string,
  acked: Acknowledged,
  payload: (i: number) => Buffer,
  chunk = 250,
) {
  let stopped = false;
  let sent = 0;
  const done = (async () => {
    while (!stopped) {
      const records = Array.from({ length: chunk }, (_, i) => ({
        PartitionKey: `${keyPrefix}-${sent + i}`,
        Data: payload(sent + i),
      }));
      sent += chunk;
      try {
        const result = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
        const now = Date.now();
        (result.Records ?? []).forEach((entry, i) => {
          if (!entry.ErrorCode) acked.set(records[i]?.PartitionKey as string, now);
        });
      } catch {
        return;
      }
    }
  })();
  return {
    done,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** The partition keys of every record in a stream, read from its start. */
export async function keysIn(client: KinesisClient, streamName: string): Promise<Set<string>> {
  const reader = await openStreamReader(client, streamName);
  const keys = new Set<string>();
  for (let empty = 0; empty < 2; ) {
    const records: _Record[] = await reader.read();
    for (const r of records) keys.add(r.PartitionKey as string);
    empty = records.length === 0 ? empty + 1 : 0;
  }
  return keys;
}

/** Waits until every key in `expected` is in the output stream (or the timeout), and returns those missing. */
export async function missingFromOutput(
  state: LocalStackState,
  expected: Iterable<string>,
  timeoutMs = 90_000,
): Promise<string[]> {
  const client = localKinesisClient(state);
  const reader = await openStreamReader(client, state.kinesis.outputStream);
  const missing = new Set(expected);
  const deadline = Date.now() + timeoutMs;
  try {
    while (missing.size > 0 && Date.now() < deadline) {
      const records = await reader.read();
      for (const r of records) missing.delete(r.PartitionKey as string);
      if (records.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    client.destroy();
  }
  return [...missing];
}

export { localKinesisClient };
