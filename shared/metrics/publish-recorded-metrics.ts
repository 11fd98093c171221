/**
 * Publishes an invocation's metrics after it, only when it recorded some.
 * Powertools' `logMetrics` publishes every time, and an invocation that
 * recorded none (most API reads) then logs "No application metrics to
 * publish": a CloudWatch Logs line, paid for, on every such request.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';

export function publishRecordedMetrics(metrics: Metrics): middy.MiddlewareObj {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    else {
      // What publishing would have reset, so nothing carries over to the next invocation.
      metrics.clearDimensions();
      metrics.clearMetadata();
    }
  };
  return { after: publish, onError: publish };
}
