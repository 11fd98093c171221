/**
 * kinesis-mock (npm `kinesis-local`), the Kinesis Data Streams emulator, run
 * through `kinesis-mock-launcher.cjs` (loopback only, atomic state file, exits
 * with its parent, prompt graceful stop).
 *
 * It keeps every stream in memory and rewrites its whole state file every
 * `PERSIST_INTERVAL`; a record it acknowledged after the last rewrite began is
 * lost if it is killed. `persistedBefore` tells the poller which of its own
 * writes are safe to checkpoint past; a graceful stop writes the file once more
 * after the ports are closed, so it loses nothing.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { type ManagedChild, readyOrExit, startChild } from '#infra/local/child-process';
import { createKinesisClient } from '#shared/aws/kinesis-client';

export const kinesisStateFileName = 'kinesis-data.json';
/**
 * Above this size each of kinesis-mock's once-a-second rewrites costs ~3 s of CPU:
 * three quarters of a core, and slower puts (measured in docs/benchmarks.md).
 */
const defaultStateWarnBytes = 16 * 1024 * 1024;

export interface KinesisMock {
  endpoint: string;
  child: ManagedChild;
  /**
   * A time before which everything kinesis-mock acknowledged is in its state file
   * (-∞ until that is known, +∞ in memory, where nothing outlives it anyway).
   */
  persistedBefore(): number;
  /** Stops it (closing its ports, then writing its state once more); true if that last write happened. */
  stop(): Promise<boolean>;
}

export async function startKinesisMock(options: {
  port: number;
  /** kinesis-mock always opens a TLS port too; it must be free. */
  tlsPort: number;
  region: string;
  dataDir?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The interface to listen on. @default 127.0.0.1 */
  bindHost?: string;
  /** State file size above which a warning is logged, at start and once while running. @default 16 MiB */
  stateWarnBytes?: number;
  log?: (line: string) => void;
}): Promise<KinesisMock> {
  const log = options.log ?? (() => undefined);
  // It reads its TLS certificate (server.json) relative to the working directory.
  const packageDir = dirname(createRequire(import.meta.url).resolve('kinesis-local/package.json'));
  const warnBytes = options.stateWarnBytes ?? defaultStateWarnBytes;
  if (options.dataDir) prepareStateFile(options.dataDir, log, warnBytes);
  const persistence: NodeJS.ProcessEnv = options.dataDir
    ? {
        SHOULD_PERSIST_DATA: 'true',
        LOAD_DATA_IF_EXISTS: 'true',
        PERSIST_PATH: options.dataDir,
        PERSIST_FILE_NAME: kinesisStateFileName,
        PERSIST_INTERVAL: '1s',
      }
    : { SHOULD_PERSIST_DATA: 'false', LOAD_DATA_IF_EXISTS: 'false' };
  const launcher = fileURLToPath(new URL('./kinesis-mock-launcher.cjs', import.meta.url));
  const child = startChild('kinesis-mock', process.execPath, [launcher], {
    cwd: packageDir,
    env: {
      PORTOLAN_KINESIS_MOCK_MAIN: join(packageDir, 'main.js'),
      PORTOLAN_BIND_HOST: options.bindHost ?? '127.0.0.1',
      KINESIS_MOCK_PLAIN_PORT: String(options.port),
      KINESIS_MOCK_TLS_PORT: String(options.tlsPort),
      AWS_REGION: options.region,
      CREATE_STREAM_DURATION: '100ms',
      ...persistence,
    },
    // The last write of a large state takes a while; killing it during that write loses it.
    stopTimeoutMs: 60_000,
  });
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = createKinesisClient({ endpoint, region: options.region, credentials: options.credentials });
  try {
    await readyOrExit(child, () => client.send(new ListStreamsCommand({})));
  } finally {
    client.destroy();
  }
  const stateFile = options.dataDir ? join(options.dataDir, kinesisStateFileName) : undefined;
  const clock = stateFile ? persistenceClock(stateFile) : undefined;
  if (stateFile) watchStateSize(stateFile, warnBytes, log, child);
  return {
    endpoint,
    child,
    persistedBefore: () => clock?.persistedBefore() ?? Number.POSITIVE_INFINITY,
    async stop() {
      const stopAt = Date.now();
      await child.stop();
      // Killed (not exited by itself): its last write may not have happened.
      if (child.process.signalCode !== null) return false;
      return clock ? clock.stoppedCleanly(stopAt) : true;
    },
  };
}

/**
 * Persistence as seen from outside: kinesis-mock writes its state in turn, one write
 * after another, each from a snapshot taken after the previous write finished. So
 * once two different versions of the file have been seen, everything acknowledged
 * before the older one was written is in the newer one.
 */
function persistenceClock(stateFile: string) {
  let current: { key: string; mtimeMs: number } | undefined;
  let previousMtime = Number.NEGATIVE_INFINITY;
  let everythingBefore = Number.NEGATIVE_INFINITY;
  const look = () => {
    const stats = statSync(stateFile, { throwIfNoEntry: false });
    if (!stats) return undefined;
    const seen = { key: `${stats.ino}:${stats.mtimeMs}`, mtimeMs: stats.mtimeMs };
    if (seen.key !== current?.key) {
      if (current) previousMtime = current.mtimeMs;
      current = seen;
    }
    return seen;
  };
  look();
  return {
    persistedBefore() {
      look();
      return Math.max(previousMtime, everythingBefore);
    },
    /** After a stop: a write that began after the ports closed holds everything acknowledged. */
    stoppedCleanly(stopAt: number) {
      const last = look();
      if (last && last.mtimeMs >= stopAt) everythingBefore = stopAt;
      return everythingBefore === stopAt;
    },
  };
}

const stateTooLarge = (size: number, warnBytes: number) =>
  `kinesis-mock's state is ${(size / 1024 / 1024).toFixed(0)} MB (warning above ${(warnBytes / 1024 / 1024).toFixed(0)} MB): ` +
  'it rewrites the whole file every second and slows down as it grows. ' +
  'Restart with --reset-streams to keep it aside and begin with empty streams.';

/** Warns once when the state grows past `warnBytes` while it runs (checked every minute). */
function watchStateSize(
  stateFile: string,
  warnBytes: number,
  log: (line: string) => void,
  child: ManagedChild,
) {
  const timer = setInterval(() => {
    const size = statSync(stateFile, { throwIfNoEntry: false })?.size ?? 0;
    if (size <= warnBytes) return;
    log(stateTooLarge(size, warnBytes));
    clearInterval(timer);
  }, 60_000).unref();
  child.process.once('exit', () => clearInterval(timer));
}

interface StoredStreams {
  streams: Record<string, { shards: Record<string, unknown[]> }>;
}

/**
 * Before kinesis-mock loads its state: temporary files of an interrupted write are
 * removed; a state file it could not load (empty, truncated, not its JSON) is kept
 * aside under a new name, with a message saying what was lost, so that it starts
 * with empty streams instead of failing; a large state is warned about.
 */
export function prepareStateFile(dataDir: string, log: (line: string) => void, warnBytes: number) {
  if (!existsSync(dataDir)) return;
  for (const name of readdirSync(dataDir))
    if (name.startsWith(`${kinesisStateFileName}.`) && name.endsWith('.tmp')) rmSync(join(dataDir, name));
  const file = join(dataDir, kinesisStateFileName);
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  const problem = unreadableBecause(file);
  if (problem) {
    const aside = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(file, aside);
    log(
      `kinesis-mock's state file ${file} is unreadable (${problem}, ${size} bytes); kept aside as ${aside}. ` +
        'The local streams start empty: every record they held is lost from them (records already ' +
        'enriched are not enriched again; the poller resumes from records that arrive now).',
    );
    return;
  }
  if (size > warnBytes) log(stateTooLarge(size, warnBytes));
}

function unreadableBecause(file: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as StoredStreams;
    if (typeof parsed?.streams !== 'object' || parsed.streams === null) return 'no "streams" in it';
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `--reset-streams`: keeps the state aside (never deletes it) so that the streams start empty. */
export function setStateAside(dataDir: string, log: (line: string) => void) {
  const file = join(dataDir, kinesisStateFileName);
  if (!existsSync(file)) return;
  const aside = `${file}.reset-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, aside);
  log(`kinesis-mock's state kept aside as ${aside}; the local streams start empty`);
}
