/** Refuses bodies over the API's limit with a 413 before anything parses them. */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { problems } from '#shared/http/problem';

export const maxBodyBytes = 256 * 1024;

export function bodySizeLimit(limit = maxBodyBytes): middy.MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: ({ event }) => {
      if (!event.body) return;
      const bytes = event.isBase64Encoded
        ? Buffer.byteLength(event.body, 'base64')
        : Buffer.byteLength(event.body, 'utf8');
      if (bytes > limit) {
        throw problems.tooLarge(`the body is ${bytes} bytes; the limit is ${limit} bytes (256 KiB)`);
      }
    },
  };
}
