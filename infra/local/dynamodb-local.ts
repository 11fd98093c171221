/**
 * DynamoDB Local, the AWS emulator (Java). The emulator ships inside the npm
 * package `amplify-dynamodb-simulator`; rather than installing that package and
 * its ~280 dependencies, its tarball alone is fetched from the npm registry once
 * and the `emulator/` folder cached.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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
}): Promise<DynamoDbLocal> {
  const emulator = ensureDynamoDbLocal(options.cacheDir);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  const child = startChild(
    'DynamoDB Local',
    'java',
    [
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(emulator, 'DynamoDBLocal.jar'),
      '-disableTelemetry',
      // Shared DB: one database whatever credentials or region a client signs with.
      '-sharedDb',
      '-port',
      String(options.port),
      ...storage,
    ],
    { cwd: emulator },
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
