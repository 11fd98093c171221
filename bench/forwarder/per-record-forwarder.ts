/**
 * The baseline: the OTLP forwarder as it was before requests were merged
 * (up to commit dcec268), less the token: every record POSTed on its own, one
 * after another, three tries each with no wait. Kept only for the benchmark.
 */
import type { OtlpPayload } from '#functions/enrich/otlp-forwarder';

export function makePerRecordForwarder(options: { endpoint: string; attempts?: number }) {
  return async function forward(payloads: OtlpPayload[]): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    for (const payload of payloads) {
      if (await post(options.endpoint, payload, options.attempts ?? 3)) sent++;
      else failed++;
    }
    return { sent, failed };
  };
}

/** One payload POSTed, tried up to `attempts` times while the failure is one worth retrying. */
async function post(endpoint: string, payload: OtlpPayload, attempts: number): Promise<boolean> {
  const headers = headersOf(payload);
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const response = await fetch(`${endpoint.replace(/\/$/, '')}/v1/${payload.signal}`, {
        method: 'POST',
        headers,
        body: payload.data,
        signal: AbortSignal.timeout(5_000),
      });
      if (response.ok) return true;
      if (response.status < 500 && response.status !== 429) return false;
    } catch {
      // a network failure: tried again
    }
  }
  return false;
}

function headersOf(payload: OtlpPayload): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': payload.protobuf ? 'application/x-protobuf' : 'application/json',
  };
  if (payload.compression === 'gzip') headers['content-encoding'] = 'gzip';
  if (payload.compression === 'zlib') headers['content-encoding'] = 'deflate';
  return headers;
}
