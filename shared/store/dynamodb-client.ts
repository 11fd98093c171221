/**
 * One DynamoDB document client per container. Endpoint and credentials come from
 * the SDK's standard configuration (`AWS_ENDPOINT_URL_DYNAMODB` points it at
 * DynamoDB Local), so local and deployed run the same code.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
