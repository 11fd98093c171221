/**
 * A dependency that cannot answer (DynamoDB unreachable, timing out, throttling
 * or failing on its side) is an outage, not a bug: the caller gets a 503 with
 * `Retry-After`, every occurrence is counted (`DependencyUnavailable`, which an
 * alarm watches) and the log gets one line per interval, however many requests
 * fail, so that an outage neither floods the logs nor goes unlogged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { apiMetrics } from '#shared/metrics/metric-names';

/** The EMF metric an alarm of the deployed stack watches. */
/** What a 503 asks the caller to wait: the SDK has already retried within the request. */
export const retryAfterSeconds = 5;

/** Raised where a dependency's failure was caught below (e.g. by a cache) and the request cannot be answered. */
export class DependencyUnavailable extends Error {
  override name = 'DependencyUnavailable';
  constructor(
    readonly dependency: string,
    message: string,
  ) {
    super(message);
  }
}

/** DynamoDB reasons a transaction was cancelled that mean "the table is overloaded", not "the data conflicts". */
const overloadReasons = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

const cancelledByOverload = (error: { name?: string; CancellationReasons?: { Code?: string }[] }) =>
  error.name === 'TransactionCanceledException' &&
  (error.CancellationReasons ?? []).some((reason) => overloadReasons.has(reason.Code ?? ''));

/**
 * True for what retrying later can fix: connection refused or reset, DNS
 * failures, timeouts, throttling and 5xx from the service. Validation errors,
 * missing tables or access denied are bugs or misconfiguration: they stay 500s.
 */
export function isDependencyOutage(error: unknown): boolean {
  if (error instanceof DependencyUnavailable) return true;
  if (typeof error !== 'object' || error === null) return false;
  const sdkError = error as SdkError;
  return (
    isTransientError(sdkError) ||
    isThrottlingError(sdkError) ||
    isServerError(sdkError) ||
    cancelledByOverload(sdkError as never)
  );
}

export interface OutageLogOptions {
  logger: Logger;
  metrics: Metrics;
  /** At most one log line per interval. @default 60 000 ms */
  intervalMs?: number;
  now?: () => number;
}

/** Counts every failed request and logs the outage once per interval, with how many failed since. */
export class OutageLog {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OutageLogOptions) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  record(dependency: string, error: unknown): void {
    this.options.metrics.addMetric(apiMetrics.dependencyUnavailable, MetricUnit.Count, 1);
    this.unlogged += 1;
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMs) return;
    const failed = error as { name?: string; code?: string; message?: string };
    this.options.logger.error(`${dependency} unavailable: answering 503`, {
      dependency,
      errorName: failed.name,
      errorCode: failed.code,
      errorMessage: failed.message,
      requestsFailedSinceLastLog: this.unlogged,
      nextLogAfterMs: this.intervalMs,
    });
    this.lastLoggedAt = now;
    this.unlogged = 0;
  }
}
