/** Creates the local tables and streams from the definitions the CDK stack deploys (idempotent). */
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException as StreamInUse,
} from '@aws-sdk/client-kinesis';
import { waitUntil } from '#infra/local/ports';
import {
  auditTable,
  catalogTable,
  createTableInput,
  inputStream,
  outputStream,
  quarantineStream,
  type StreamDefinition,
  type TableDefinition,
} from '#shared/store/table-definitions';

export const localTableNames = { catalog: 'portolan-catalog', audit: 'portolan-audit' } as const;
export const localStreamNames = {
  input: 'portolan-telemetry-in',
  output: 'portolan-telemetry-out',
  quarantine: 'portolan-telemetry-quarantine',
} as const;

export async function createTables(
  client: DynamoDBClient,
  names: { catalog: string; audit: string } = localTableNames,
): Promise<void> {
  const tables: [string, TableDefinition][] = [
    [names.catalog, catalogTable],
    [names.audit, auditTable],
  ];
  for (const [name, definition] of tables) {
    try {
      await client.send(new CreateTableCommand(createTableInput(name, definition)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
  }
}

export async function createStreams(
  client: KinesisClient,
  names: { input: string; output: string; quarantine?: string } = localStreamNames,
): Promise<void> {
  const streams: [string, StreamDefinition][] = [
    [names.input, inputStream],
    [names.output, outputStream],
    ...(names.quarantine ? [[names.quarantine, quarantineStream] as [string, StreamDefinition]] : []),
  ];
  for (const [name, definition] of streams) {
    try {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: definition.localShards }));
    } catch (error) {
      if (!(error instanceof StreamInUse)) throw error;
    }
    // The SDK's stream waiter trips over kinesis-mock's responses; poll the summary instead.
    await waitUntil(`stream ${name}`, async () => {
      const { StreamDescriptionSummary } = await client.send(
        new DescribeStreamSummaryCommand({ StreamName: name }),
      );
      if (StreamDescriptionSummary?.StreamStatus !== 'ACTIVE')
        throw new Error(`still ${StreamDescriptionSummary?.StreamStatus}`);
    });
  }
}

export { DynamoDBClient };
