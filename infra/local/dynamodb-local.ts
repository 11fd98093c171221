/**
 * DynamoDB Local, the AWS emulator (Java). The emulator ships inside the npm
 * package `amplify-dynamodb-simulator`; rather than installing that package and
 * its ~280 dependencies, its tarball alone is fetched from the npm registry once
 * and the `emulator/` folder cached. It runs through `DynamoDbLocalLauncher.java`
 * (compiled once into the cache), which makes it listen on loopback only and exit
 * with its parent.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type ManagedChild, readyOrExit, startChild } from '#infra/local/child-process';

const simulatorPackage = 'amplify-dynamodb-simulator@2.9.30';

/** Makes sure the emulator is in `cacheDir` (downloads it on first use) and returns its folder. */
export function ensureDynamoDbLocal(cacheDir: string): string {
  const emulator = join(cacheDir, 'dynamodb-local');
  if (existsSync(join(emulator, 'DynamoDBLocal.jar'))) return emulator;
  const work = join(cacheDir, `dynamodb-local.download-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const tarball = execFileSync('npm', ['pack', simulatorPackage, '--silent'], {
      cwd: work,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['-xzf', tarball, 'package/emulator'], { cwd: work });
    rmSync(emulator, { recursive: true, force: true });
    renameSync(join(work, 'package', 'emulator'), emulator);
  } catch (error) {
    throw new Error(
      `could not fetch DynamoDB Local (npm pack ${simulatorPackage}): ${(error as Error).message}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return emulator;
}

const launcherSource = fileURLToPath(new URL('./DynamoDbLocalLauncher.java', import.meta.url));

/** Compiles the launcher against the emulator's jars once per version of its source; returns its folder. */
function ensureLauncher(emulator: string): string {
  const digest = createHash('sha256').update(readFileSync(launcherSource)).digest('hex').slice(0, 12);
  const dir = join(emulator, `portolan-launcher-${digest}`);
  if (existsSync(join(dir, 'DynamoDbLocalLauncher.class'))) return dir;
  const work = `${dir}.build-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  try {
    execFileSync('javac', ['-cp', classPath(emulator), '-d', work, launcherSource], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(
      `could not compile ${launcherSource} (javac, from a JDK 11+, is needed): ${(error as Error).message}`,
    );
  }
  return dir;
}

const classPath = (emulator: string, ...more: string[]) =>
  [join(emulator, 'DynamoDBLocal.jar'), join(emulator, 'DynamoDBLocal_lib', '*'), ...more].join(delimiter);

export interface DynamoDbLocal {
  endpoint: string;
  child: ManagedChild;
}

/** Starts DynamoDB Local on `port`, persisting in `dataDir` unless it is undefined (in-memory). */
export async function startDynamoDbLocal(options: {
  cacheDir: string;
  port: number;
  dataDir?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The interface to listen on. @default 127.0.0.1 */
  bindHost?: string;
}): Promise<DynamoDbLocal> {
  const emulator = ensureDynamoDbLocal(options.cacheDir);
  const launcher = ensureLauncher(emulator);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  const child = startChild(
    'DynamoDB Local',
    'java',
    [
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      // A plain IPv4 socket, so that 127.0.0.1 is what it listens on (not an IPv6 socket mapping it).
      '-Djava.net.preferIPv4Stack=true',
      '-cp',
      classPath(emulator, launcher),
      'DynamoDbLocalLauncher',
      '-disableTelemetry',
      // Shared DB: one database whatever credentials or region a client signs with.
      '-sharedDb',
      '-port',
      String(options.port),
      ...storage,
    ],
    { cwd: emulator, env: { PORTOLAN_BIND_HOST: options.bindHost ?? '127.0.0.1' } },
  );
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: options.credentials });
  try {
    await readyOrExit(child, () => client.send(new ListTablesCommand({})));
  } finally {
    client.destroy();
  }
  return { endpoint, child };
}
