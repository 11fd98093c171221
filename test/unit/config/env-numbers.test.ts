import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { optionalWholeNumberFromEnv, wholeNumberFromEnv } from '#shared/config/env-numbers';

describe('whole numbers from the environment', () => {
  it('reads plain digits, and the fallback only when the variable is not set', () => {
    assert.equal(wholeNumberFromEnv({ TTL: '60' }, 'TTL', 5), 60);
    assert.equal(wholeNumberFromEnv({ TTL: '0' }, 'TTL', 5), 0);
    assert.equal(wholeNumberFromEnv({}, 'TTL', 5), 5);
    assert.equal(optionalWholeNumberFromEnv({}, 'TTL'), undefined);
    assert.equal(wholeNumberFromEnv({ TTL: '9007199254740991' }, 'TTL', 5), Number.MAX_SAFE_INTEGER);
  });

  for (const [form, raw] of [
    ['a unit', '60s'],
    ['empty', ''],
    ['blank', ' '],
    ['surrounded by spaces', ' 60 '],
    ['a trailing newline', '60\n'],
    ['negative', '-1'],
    ['signed', '+60'],
    ['a fraction', '1.5'],
    ['a trailing point', '60.'],
    ['an exponent', '1e3'],
    ['hexadecimal', '0x3c'],
    ['binary', '0b11'],
    ['octal', '0o74'],
    ['with separators', '1_000'],
    ['with a comma', '1,000'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['words', 'sixty'],
    ['past the safe integers', '9007199254740993'],
  ] as const) {
    it(`refuses ${form} (${JSON.stringify(raw)}), naming the variable`, () => {
      assert.throws(
        () => wholeNumberFromEnv({ CACHE_TTL_SECONDS: raw }, 'CACHE_TTL_SECONDS', 60),
        (error: Error) =>
          error.message.startsWith(`environment variable CACHE_TTL_SECONDS=${JSON.stringify(raw)} `) &&
          error.message.includes('must be a whole number'),
      );
    });
  }

  it('refuses numbers outside the bounds, saying the bounds and what the number means', () => {
    const bounds = { min: 1, max: 10, meaning: 'seconds' };
    assert.equal(wholeNumberFromEnv({ N: '10' }, 'N', 5, bounds), 10);
    assert.throws(
      () => wholeNumberFromEnv({ N: '0' }, 'N', 5, bounds),
      /N="0" must be a whole number from 1 to 10 \(seconds\)/,
    );
    assert.throws(() => wholeNumberFromEnv({ N: '11' }, 'N', 5, bounds), /from 1 to 10/);
    assert.throws(
      () => optionalWholeNumberFromEnv({ N: '0' }, 'N', { min: 1 }),
      /N="0" must be a whole number at least 1$/,
    );
  });
});
