import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryBudgetMs, writeAuthorized } from '#functions/api/authorized-write';
import { HttpProblem } from '#shared/http/problem';
import { type StoredEntity, StoreError } from '#shared/store/catalog-store';

const entity = (version: number, repository = 'github.com/acme/mine'): StoredEntity => ({
  kind: 'service',
  doc: { id: 'checkout', team: 'payments', repository },
  version,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const lost = () =>
  new StoreError('precondition-failed', 'the entity changed while this request was writing it');

describe('a write authorized against the version it replaces', () => {
  it('re-reads and re-authorizes after a lost race, writing on the version it authorized', async () => {
    const versions = [entity(1), entity(2)];
    const authorized: number[] = [];
    const written: (number | 'absent')[] = [];
    const result = await writeAuthorized({
      ref: 'service/checkout',
      expected: undefined,
      read: async () => versions.shift(),
      authorize: async (current) => {
        authorized.push(current?.version ?? 0);
      },
      write: async (precondition) => {
        written.push(precondition);
        if (written.length === 1) throw lost();
        return 'done';
      },
    });
    assert.equal(result, 'done');
    assert.deepEqual(authorized, [1, 2]);
    assert.deepEqual(written, [1, 2]);
  });

  it('refuses on the retry when the entity moved out of reach meanwhile', async () => {
    const versions = [entity(1), entity(2, 'github.com/acme/theirs')];
    let writes = 0;
    await assert.rejects(
      writeAuthorized({
        ref: 'service/checkout',
        expected: undefined,
        read: async () => versions.shift(),
        authorize: async (current) => {
          if (current?.doc.repository !== 'github.com/acme/mine')
            throw new HttpProblem(403, 'Forbidden', 'moved');
        },
        write: async () => {
          writes++;
          throw lost();
        },
      }),
      (e: unknown) => e instanceof HttpProblem && e.status === 403,
    );
    assert.equal(writes, 1);
  });

  it('answers 409 "kept changing", never 412, when races are lost for the whole budget', async () => {
    let clock = 0;
    let attempts = 0;
    await assert.rejects(
      writeAuthorized(
        {
          ref: 'service/checkout',
          expected: undefined,
          read: async () => entity(++attempts),
          authorize: async () => {},
          write: async () => {
            clock += retryBudgetMs / 4;
            throw lost();
          },
        },
        () => clock,
      ),
      (e: unknown) =>
        e instanceof HttpProblem &&
        e.status === 409 &&
        /kept changing/.test(e.detail) &&
        !/412/.test(e.detail),
    );
    assert.equal(attempts, 4);
  });

  it("keeps the caller's own If-Match: a lost race is its 412 at once", async () => {
    let writes = 0;
    await assert.rejects(
      writeAuthorized({
        ref: 'service/checkout',
        expected: 1,
        read: async () => entity(1),
        authorize: async () => {},
        write: async (precondition) => {
          writes++;
          assert.equal(precondition, 1);
          throw lost();
        },
      }),
      (e: unknown) => e instanceof StoreError && e.code === 'precondition-failed',
    );
    assert.equal(writes, 1);
  });
});
