/**
 * The local stack and the deployed stack build their tables from one set of
 * definitions: the keys DynamoDB Local reports are the keys in the template.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readLocalStack } from '../support/local-stack.ts';
import { logicalId, synthStack } from './synth.ts';

describe('local and deployed tables', () => {
  it('have the same keys and attribute types', async () => {
    const state = readLocalStack();
    const client = new DynamoDBClient({
      endpoint: state.dynamodb.endpoint,
      region: state.region,
      credentials: state.aws,
    });
    const { template } = synthStack();
    for (const [local, prefix] of [
      [state.dynamodb.tables.catalog, 'DataCatalog'],
      [state.dynamodb.tables.audit, 'DataAudit'],
    ] as const) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: local }));
      const deployed =
        template.toJSON().Resources[logicalId(template, 'AWS::DynamoDB::GlobalTable', prefix)].Properties;
      assert.deepEqual(Table?.KeySchema, deployed.KeySchema, local);
      const sorted = (defs: { AttributeName?: string }[] = []) =>
        [...defs].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName)));
      assert.deepEqual(sorted(Table?.AttributeDefinitions), sorted(deployed.AttributeDefinitions), local);
      assert.equal(
        Table?.GlobalSecondaryIndexes,
        deployed.GlobalSecondaryIndexes,
        'no indexes on either side',
      );
    }
    client.destroy();
  });
});
