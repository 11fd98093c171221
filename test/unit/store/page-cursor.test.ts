import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StoreError } from '#shared/store/catalog-store';
import { decodeCursor, encodeCursor } from '#shared/store/page-cursor';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const isBadCursor = (error: unknown) => error instanceof StoreError && error.code === 'bad-cursor';

describe('page cursors', () => {
  it('give back the key they were made from', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }), (key) => {
        assert.equal(decodeCursor(encodeCursor(key), 'string'), key);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (seq) => {
        assert.equal(decodeCursor(encodeCursor(seq), 'number'), seq);
      }),
    );
  });

  it('refuse keys DynamoDB would refuse: empty, over 1 KiB, lone surrogates, unsafe or non-positive numbers', () => {
    for (const cursor of [
      '',
      b64('""'),
      b64('{"k":""}'),
      b64(`{"k":"${'x'.repeat(1025)}"}`),
      b64('{"k":"a\\ud800"}'),
      b64('null'),
    ])
      assert.throws(() => decodeCursor(cursor, 'string'), isBadCursor, cursor);
    for (const cursor of [
      b64('{"k":1e308}'),
      b64('{"k":1e999}'),
      b64('{"k":-1}'),
      b64('{"k":0}'),
      b64('{"k":1.5}'),
    ])
      assert.throws(() => decodeCursor(cursor, 'number'), isBadCursor, cursor);
  });

  it('answer any other string with a bad-cursor error, never anything else', () => {
    const cursors = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => b64(JSON.stringify({ k: v }))),
      fc.string({ unit: 'binary' }).map(b64),
    );
    fc.assert(
      fc.property(cursors, fc.constantFrom('string' as const, 'number' as const), (cursor, type) => {
        try {
          const key = decodeCursor(cursor, type);
          assert.equal(typeof key, type);
        } catch (error) {
          assert.ok(isBadCursor(error), String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
