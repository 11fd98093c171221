import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchInfoOf, streamNameOf } from '#infra/ops/replay-failed-batches';

describe('on-failure records', () => {
  it('reads the batch coordinates Lambda sends to an on-failure destination', () => {
    const info = {
      shardId: 'shardId-000000000001',
      startSequenceNumber: '49650000000000000000000000000000000000000000000000000001',
      endSequenceNumber: '49650000000000000000000000000000000000000000000000000099',
      batchSize: 99,
      streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/portolan-in',
    };
    assert.deepEqual(batchInfoOf(JSON.stringify({ version: '1.0', KinesisBatchInfo: info })), info);
    assert.equal(streamNameOf(info.streamArn), 'portolan-in');
  });

  it('refuses what is not one, saying why', () => {
    assert.throws(() => batchInfoOf('{oops'), /^Error: not JSON: \{oops$/);
    assert.throws(
      () => batchInfoOf(JSON.stringify({ KinesisBatchInfo: { shardId: 's' } })),
      /not a Kinesis on-failure record: KinesisBatchInfo with shardId, sequence range and streamArn expected/,
    );
  });
});
