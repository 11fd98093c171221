import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapBounded } from '#shared/async/map-bounded';

describe('mapBounded', () => {
  it('keeps at most `width` calls in flight and the results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([...Array(50).keys()], 4, async (n) => {
      most = Math.max(most, ++inFlight);
      await sleep(n % 3);
      inFlight--;
      return n * 2;
    });
    assert.equal(most, 4);
    assert.deepEqual(
      results,
      [...Array(50).keys()].map((n) => n * 2),
    );
  });

  it('fails with the first failure', async () => {
    await assert.rejects(
      mapBounded([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('two');
        return n;
      }),
      /two/,
    );
  });

  it('maps nothing to nothing', async () => {
    assert.deepEqual(await mapBounded([], 8, async (n) => n), []);
  });
});
