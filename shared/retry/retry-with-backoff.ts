/**
 * Retrying with exponential backoff and full jitter: the wait before retry n
 * is drawn uniformly from [0, min(cap, base × 2^(n−1))). Clients that failed
 * together (a throttled shard, a busy endpoint) then come back spread out
 * instead of in step, which is what gets the work done soonest in all
 * ("Exponential Backoff And Jitter", AWS Architecture Blog). Every retry loop
 * in Portolan waits through here; only base and cap differ per call site.
 */

export interface Backoff {
  /** The ceiling of the first wait, doubled for each retry after it. */
  baseMs: number;
  /** No wait is drawn above this. */
  capMs: number;
}

/** The wait before retry `retry` (1 for the first), full jitter: uniform in [0, min(cap, base × 2^(retry−1))). */
export function fullJitterDelay(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** What one attempt came to: done, or worth another try (maybe after a delay the other side asked for). */
export type Attempt<T> = { done: true; value: T } | { done: false; value: T; retryAfterMs?: number };

export interface RetryOptions extends Backoff {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /**
   * A time (epoch ms, as `now` reads it) by which retrying ends: no wait is
   * started that would end past it, so no attempt starts after it.
   */
  deadline?: number;
  /**
   * Wait at least the delay an attempt reports (an HTTP `Retry-After`): a
   * server that says when to come back is not helped by coming back sooner.
   * A delay that would end past the deadline, or longer than
   * `maxRetryAfterMs`, ends retrying at once.
   * @default true
   */
  honourRetryAfter?: boolean;
  /** The longest server-given delay waited for. @default 60000 */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface Retried<T> {
  /** The last attempt's value. */
  value: T;
  attempts: number;
  /** Whether the last attempt was done; false when attempts or time ran out. */
  done: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it is done, the attempts are used up, or the deadline
 * would be passed; never throws on its own (an attempt that throws throws).
 */
export async function retryWithBackoff<T>(
  attempt: (n: number) => Promise<Attempt<T>>,
  options: RetryOptions,
): Promise<Retried<T>> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (outcome.done || n >= options.maxAttempts)
      return { value: outcome.value, attempts: n, done: outcome.done };
    let wait = fullJitterDelay(n, options, options.random);
    if (options.honourRetryAfter !== false && outcome.retryAfterMs !== undefined) {
      if (outcome.retryAfterMs > (options.maxRetryAfterMs ?? 60_000))
        return { value: outcome.value, attempts: n, done: false };
      wait = Math.max(wait, outcome.retryAfterMs);
    }
    if (now() + wait >= deadline) return { value: outcome.value, attempts: n, done: false };
    await sleep(wait);
  }
}

const imfFixdate = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * An HTTP `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP
 * date) as milliseconds from `now`; undefined when absent or unreadable, so
 * that a malformed header falls back to the backoff instead of a guess.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!imfFixdate.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
