/** The one way Portolan creates Kinesis clients (enricher, poller, local stack, tests). */
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * HTTP/1.1 with keep-alive instead of the SDK's HTTP/2 default: HTTP/2 exists for
 * SubscribeToShard, which Portolan does not use; PutRecords/GetRecords need
 * nothing more, and kinesis-mock's cleartext HTTP/2 fails intermittently.
 */
export const createKinesisClient = (config: KinesisClientConfig = {}) =>
  new KinesisClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000 }), ...config });
