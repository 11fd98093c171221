import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DependencyUnavailable, isDependencyOutage, OutageLog } from '#shared/http/dependency-outage';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    ...meta(400),
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('dependency outage or bug', () => {
  it('counts what retrying later can fix as an outage: network, timeouts, throttling, 5xx', () => {
    for (const error of [
      networkError('ECONNREFUSED'),
      networkError('ECONNRESET'),
      networkError('ENOTFOUND'),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(400) }),
      new ThrottlingException({ message: 'slow down', ...meta(400) }),
      new RequestLimitExceeded({ message: 'account limit', ...meta(400) }),
      new InternalServerError({ message: 'oops', ...meta(500) }),
      cancelled('None', 'ThrottlingError'),
      new DependencyUnavailable('DynamoDB', 'could not read'),
    ])
      assert.equal(isDependencyOutage(error), true, `${error.name}: ${error.message}`);
  });

  it('leaves bugs and misconfiguration to be 500s', () => {
    for (const error of [
      new ResourceNotFoundException({ message: 'no such table', ...meta(400) }),
      new ConditionalCheckFailedException({ message: 'condition', ...meta(400) }),
      Object.assign(new Error('One or more parameter values were invalid'), {
        name: 'ValidationException',
        ...meta(400),
      }),
      cancelled('ConditionalCheckFailed', 'None'),
      new TypeError('undefined is not a function'),
    ])
      assert.equal(isDependencyOutage(error), false, `${error.name}: ${error.message}`);
    for (const value of [undefined, null, 'ECONNREFUSED', 42]) assert.equal(isDependencyOutage(value), false);
  });
});

describe('outage log', () => {
  it('logs once per interval with the count since the last line, and counts every failure', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({ logLevel: 'ERROR' });
    logger.error = ((message: string, extra: Record<string, unknown>) => {
      lines.push({ message, ...extra });
    }) as never;
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
    let added = 0;
    metrics.addMetric = (() => {
      added++;
    }) as never;
    let now = 1_000_000;
    const log = new OutageLog({ logger, metrics, intervalMs: 60_000, now: () => now });
    const refused = networkError('ECONNREFUSED');
    for (let i = 0; i < 50; i++) {
      log.record('DynamoDB', refused);
      now += 1_000;
    }
    assert.equal(added, 50);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.requestsFailedSinceLastLog, 1);
    now += 10_000;
    log.record('DynamoDB', refused);
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.requestsFailedSinceLastLog, 50, 'the 49 unlogged failures and this one');
    assert.equal(lines[1]?.errorCode, 'ECONNREFUSED');
  });
});
