/** kinesis-mock (npm `kinesis-local`), the Kinesis Data Streams emulator. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { type ManagedChild, readyOrExit, startChild } from '#infra/local/child-process';
import { createKinesisClient } from '#shared/aws/kinesis-client';

export interface KinesisMock {
  endpoint: string;
  child: ManagedChild;
}

export async function startKinesisMock(options: {
  port: number;
  /** kinesis-mock always opens a TLS port too; it must be free. */
  tlsPort: number;
  region: string;
  dataDir?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<KinesisMock> {
  // It reads its TLS certificate (server.json) relative to the working directory.
  const packageDir = dirname(createRequire(import.meta.url).resolve('kinesis-local/package.json'));
  const persistence: NodeJS.ProcessEnv = options.dataDir
    ? {
        SHOULD_PERSIST_DATA: 'true',
        LOAD_DATA_IF_EXISTS: 'true',
        PERSIST_PATH: options.dataDir,
        PERSIST_INTERVAL: '1s',
      }
    : { SHOULD_PERSIST_DATA: 'false', LOAD_DATA_IF_EXISTS: 'false' };
  const child = startChild('kinesis-mock', process.execPath, [join(packageDir, 'main.js')], {
    cwd: packageDir,
    env: {
      KINESIS_MOCK_PLAIN_PORT: String(options.port),
      KINESIS_MOCK_TLS_PORT: String(options.tlsPort),
      AWS_REGION: options.region,
      CREATE_STREAM_DURATION: '100ms',
      ...persistence,
    },
  });
  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = createKinesisClient({ endpoint, region: options.region, credentials: options.credentials });
  try {
    await readyOrExit(child, () => client.send(new ListStreamsCommand({})));
  } finally {
    client.destroy();
  }
  return { endpoint, child };
}
