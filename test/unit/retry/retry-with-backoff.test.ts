import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Attempt,
  fullJitterDelay,
  retryAfterMs,
  retryWithBackoff,
} from '#shared/retry/retry-with-backoff';

/** A clock that only moves when slept on, recording each wait. */
function fakeClock(start = 1_000_000) {
  let t = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

const failing = async (): Promise<Attempt<string>> => ({ done: false, value: 'no' });

describe('full jitter delay', () => {
  it('is uniform over [0, min(cap, base × 2^(retry−1))): the extremes of random map to the range ends', () => {
    const backoff = { baseMs: 100, capMs: 2_000 };
    assert.equal(
      fullJitterDelay(1, backoff, () => 0),
      0,
    );
    assert.equal(
      fullJitterDelay(1, backoff, () => 0.999_999),
      99,
    );
    assert.equal(
      fullJitterDelay(3, backoff, () => 0.999_999),
      399,
    );
    assert.equal(
      fullJitterDelay(3, backoff, () => 0.5),
      200,
    );
    assert.equal(
      fullJitterDelay(20, backoff, () => 0.999_999),
      1_999,
      'capped',
    );
    assert.equal(
      fullJitterDelay(2_000, backoff, () => 0.5),
      1_000,
      'no overflow past the cap',
    );
  });

  it('stays within bounds for any retry, base, cap and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, baseMs, capMs, r) => {
          const delay = fullJitterDelay(retry, { baseMs, capMs }, () => r);
          const ceiling = Math.min(capMs, baseMs * 2 ** (retry - 1));
          return Number.isInteger(delay) && delay >= 0 && delay < ceiling;
        },
      ),
    );
  });

  it('spreads waits over the whole range (not the half-to-full of "equal jitter")', () => {
    const draws = Array.from({ length: 2_000 }, () => fullJitterDelay(4, { baseMs: 100, capMs: 10_000 }));
    assert.ok(Math.min(...draws) < 80, 'some waits near zero');
    assert.ok(Math.max(...draws) > 720, 'some waits near the ceiling of 800');
  });
});

describe('retryWithBackoff', () => {
  it('stops at the first done attempt, waiting full-jitter delays between', async () => {
    const clock = fakeClock();
    const seen: number[] = [];
    const result = await retryWithBackoff(
      async (n) => {
        seen.push(n);
        return n === 3 ? { done: true, value: 'ok' } : { done: false, value: 'no' };
      },
      { maxAttempts: 5, baseMs: 100, capMs: 1_000, random: () => 0.5, ...clock },
    );
    assert.deepEqual(result, { value: 'ok', attempts: 3, done: true });
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(clock.waits, [50, 100]);
  });

  it('gives up after maxAttempts with the last value, not waiting after the last', async () => {
    const clock = fakeClock();
    const result = await retryWithBackoff(failing, {
      maxAttempts: 4,
      baseMs: 10,
      capMs: 1_000,
      random: () => 0.999,
      ...clock,
    });
    assert.deepEqual(result, { value: 'no', attempts: 4, done: false });
    assert.deepEqual(clock.waits, [9, 19, 39]);
  });

  it('starts no wait that would end past the deadline', async () => {
    const clock = fakeClock(0);
    const result = await retryWithBackoff(failing, {
      maxAttempts: 100,
      baseMs: 100,
      capMs: 100_000,
      random: () => 0.999,
      deadline: 1_000,
      ...clock,
    });
    // Waits of 99, 199, 399 end at 697; the next (799) would end at 1,496.
    assert.deepEqual(clock.waits, [99, 199, 399]);
    assert.equal(result.attempts, 4);
    assert.equal(result.done, false);
    assert.ok(clock.now() < 1_000);
  });

  it('waits at least a server-given delay, and gives up at once when it passes the deadline or the longest wait', async () => {
    const clock = fakeClock(0);
    const answers = [1_500, 100];
    await retryWithBackoff(
      async (n) =>
        n <= 2 ? { done: false, value: n, retryAfterMs: answers[n - 1] as number } : { done: true, value: n },
      { maxAttempts: 5, baseMs: 100, capMs: 1_000, random: () => 0.999, ...clock },
    );
    assert.deepEqual(clock.waits, [1_500, 199], 'the larger of Retry-After and the jittered backoff');

    const late = fakeClock(0);
    const past = await retryWithBackoff(async () => ({ done: false, value: 0, retryAfterMs: 5_000 }), {
      maxAttempts: 5,
      baseMs: 100,
      capMs: 1_000,
      deadline: 4_000,
      ...late,
    });
    assert.deepEqual([past.attempts, late.waits], [1, []]);

    const far = fakeClock(0);
    const tooLong = await retryWithBackoff(async () => ({ done: false, value: 0, retryAfterMs: 3_600_000 }), {
      maxAttempts: 5,
      baseMs: 100,
      capMs: 1_000,
      ...far,
    });
    assert.deepEqual([tooLong.attempts, far.waits], [1, []]);
  });

  it('ignores a server-given delay when told to', async () => {
    const clock = fakeClock(0);
    await retryWithBackoff(async (n) => ({ done: n === 2, value: n, retryAfterMs: 30_000 }), {
      maxAttempts: 3,
      baseMs: 100,
      capMs: 1_000,
      honourRetryAfter: false,
      random: () => 0.5,
      ...clock,
    });
    assert.deepEqual(clock.waits, [50]);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('3', now), 3_000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Wed, 25 Nov 2026 12:00:07 GMT', now), 7_000);
    assert.equal(retryAfterMs('Wed, 25 Nov 2026 11:59:00 GMT', now), 0, 'a date in the past: now');
  });

  it('ignores what is neither', () => {
    for (const value of [
      undefined,
      null,
      '',
      '-1',
      '1.5',
      'soon',
      '2026-11-25T12:00:07Z',
      'Wed, 25 Nov 2026',
    ])
      assert.equal(retryAfterMs(value, now), undefined, String(value));
  });
});
