/**
 * A change is authorized against the version it replaces, and written only if
 * that version is still the current one. Without `If-Match` a lost race is not
 * the caller's problem: the entity is read again and the change authorized
 * again (it may now be refused: a service moved to another repository is no
 * longer the job's to change), for a bounded time. After that the answer is a
 * 409 saying the entity kept changing, never a 412 for a precondition the
 * caller did not send.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { problems } from '#shared/http/problem';
import { fullJitterDelay } from '#shared/retry/retry-with-backoff';
import { type StoredEntity, StoreError, type VersionPrecondition } from '#shared/store/catalog-store';

/** How long a write without `If-Match` keeps retrying lost races before answering 409. */
export const retryBudgetMs = 2_000;

export interface AuthorizedWrite<T> {
  /** `store.kind/id`, for the 409's detail. */
  ref: string;
  /** The request's own precondition (`If-Match`, `If-None-Match`), if any. */
  expected: VersionPrecondition;
  read(): Promise<StoredEntity | undefined>;
  /** Throws (403, 409…) unless the change may be made to `current`. */
  authorize(current: StoredEntity | undefined): Promise<void>;
  /** Writes, conditioned on `precondition`: the version that was authorized. */
  write(precondition: number | 'absent'): Promise<T>;
}

const lostRace = (error: unknown) => error instanceof StoreError && error.code === 'precondition-failed';

export async function writeAuthorized<T>(change: AuthorizedWrite<T>, now = () => Date.now()): Promise<T> {
  const started = now();
  for (let attempt = 1; ; attempt++) {
    const current = await change.read();
    await change.authorize(current);
    const precondition = change.expected ?? (current ? current.version : 'absent');
    try {
      return await change.write(precondition);
    } catch (error) {
      if (change.expected !== undefined || !lostRace(error)) throw error;
      const elapsed = now() - started;
      if (elapsed >= retryBudgetMs) {
        throw problems.conflict(
          `${change.ref} kept changing while this request was writing it (${attempt} attempts in ${elapsed} ms): send it again, or read the entity and send If-Match with its ETag`,
          { attempts: attempt },
        );
      }
      // Concurrent writers back off by different amounts, so one of them wins the next round.
      await sleep(fullJitterDelay(attempt, { baseMs: 10, capMs: 100 }));
    }
  }
}
