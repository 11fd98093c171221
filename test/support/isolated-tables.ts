/**
 * Fresh catalog and audit tables in the running DynamoDB Local, built from the
 * same definitions the stacks use, so a test file owns its data outright.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChangeContext } from '#shared/store/catalog-store';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { auditTable, catalogTable, createTableInput } from '#shared/store/table-definitions';

export interface IsolatedTables {
  client: DynamoDBClient;
  catalogTable: string;
  auditTable: string;
}

function localDynamoEndpoint(): { endpoint: string; region: string } {
  const statePath = process.env.PORTOLAN_LOCAL_STATE;
  if (!statePath) throw new Error('PORTOLAN_LOCAL_STATE is not set: run the tests with `npm test`');
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
    region: string;
    dynamodb: { endpoint: string };
  };
  return { endpoint: state.dynamodb.endpoint, region: state.region };
}

export async function createIsolatedTables(): Promise<IsolatedTables> {
  const { endpoint, region } = localDynamoEndpoint();
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const suffix = randomUUID().slice(0, 8);
  const tables = { catalogTable: `catalog-${suffix}`, auditTable: `audit-${suffix}` };
  await client.send(new CreateTableCommand(createTableInput(tables.catalogTable, catalogTable)));
  await client.send(new CreateTableCommand(createTableInput(tables.auditTable, auditTable)));
  return { client, ...tables };
}

/** Isolated tables with a document client and a catalog store over them. */
export async function isolatedCatalogStore() {
  const tables = await createIsolatedTables();
  const client = createDocumentClient(tables.client);
  const store = makeDynamoCatalogStore({
    client,
    catalogTable: tables.catalogTable,
    auditTable: tables.auditTable,
  });
  return { tables, client, store };
}

/** Isolated tables holding one team, `payments`, with a document client and a catalog store over them. */
export async function paymentsCatalog(ctx: ChangeContext) {
  const { tables, client, store } = await isolatedCatalogStore();
  await store.put('team', { id: 'payments', name: 'Payments', contacts: {} }, undefined, ctx);
  return { client, table: tables.catalogTable, store };
}
