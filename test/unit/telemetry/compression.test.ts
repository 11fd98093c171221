import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { compress, decompress, maxDecompressedBytes } from '#shared/telemetry/compression';
import { decodeRecord } from '#shared/telemetry/record-codec';

const samples = {
  'a tiny record': Buffer.from('{"service.name":"checkout"}'),
  'a typical record': Buffer.from(
    JSON.stringify({ logEvents: Array.from({ length: 8 }, (_, i) => `line ${i}`) }),
  ),
  'just under a small window': Buffer.from('ab'.repeat(380)),
  'repeats further back than a small window': Buffer.concat([
    randomBytes(5_000),
    Buffer.from('x'.repeat(50)),
  ]),
  'larger than the largest window': Buffer.from(
    JSON.stringify(Array.from({ length: 4_000 }, (_, i) => ({ i, s: `svc-${i % 37}` }))),
  ),
};

describe('compression sized to the record', () => {
  for (const [name, data] of Object.entries(samples)) {
    it(`gzip of ${name} is byte for byte zlib's default`, () => {
      assert.deepEqual(compress(data, 'gzip'), gzipSync(data));
    });
    it(`zlib of ${name} is byte for byte zlib's default, header included`, () => {
      assert.deepEqual(compress(data, 'zlib'), deflateSync(data));
      assert.deepEqual(decompress(compress(data, 'zlib'), 'zlib'), data);
    });
  }

  it('decompresses concatenated gzip members (the size hint is only the last one)', () => {
    const members = Buffer.concat([gzipSync(Buffer.from('a'.repeat(10_000))), gzipSync(Buffer.from('b'))]);
    assert.equal(decompress(members, 'gzip').toString(), `${'a'.repeat(10_000)}b`);
    assert.equal(gunzipSync(members).length, 10_001);
  });

  it('refuses a record that inflates past the limit, and the record passes through', () => {
    const bomb = gzipSync(Buffer.alloc(maxDecompressedBytes + 1, 0x20));
    assert.ok(bomb.length < 1024 * 1024, 'fits a Kinesis record');
    assert.throws(() => decompress(bomb, 'gzip'), RangeError);
    const decoding = decodeRecord(bomb);
    assert.ok('passThrough' in decoding);
    assert.equal(decoding.passThrough, 'decompression-cap');
    assert.match(decoding.reason, /^inflates past/);
  });
});
