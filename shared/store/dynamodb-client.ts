/**
 * One DynamoDB document client per container. Endpoint and credentials come from
 * the SDK's standard configuration (`AWS_ENDPOINT_URL_DYNAMODB` points it at
 * DynamoDB Local), so local and deployed run the same code.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * The SDK waits forever on a connection that never answers. DynamoDB answers in
 * milliseconds; with these bounds and the SDK's 3 attempts, an unreachable table
 * fails a call within about 6 s, inside the API function's 10 s timeout, so the
 * caller gets a 503 instead of a gateway timeout.
 */
export const dynamoDbTimeouts = {
  connectionTimeout: 1_000,
  requestTimeout: 1_500,
  throwOnRequestTimeout: true,
} as const;

export function createDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ requestHandler: dynamoDbTimeouts, ...config });
}

export function createDocumentClient(client = createDynamoDbClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Every item a query matches, following LastEvaluatedKey page by page (`onPage` counts the requests). */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  onPage: () => void = () => {},
) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    onPage();
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
