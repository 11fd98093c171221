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
      const headers: Record<string, string> = {
        'content-type': payload.protobuf ? 'application/x-protobuf' : 'application/json',
      };
      if (payload.compression === 'gzip') headers['content-encoding'] = 'gzip';
      if (payload.compression === 'zlib') headers['content-encoding'] = 'deflate';
      let ok = false;
      for (let attempt = 0; attempt < (options.attempts ?? 3) && !ok; attempt++) {
        try {
          const response = await fetch(`${options.endpoint.replace(/\/$/, '')}/v1/${payload.signal}`, {
            method: 'POST',
            headers,
            body: payload.data,
            signal: AbortSignal.timeout(5_000),
          });
          ok = response.ok;
          if (!ok && response.status < 500 && response.status !== 429) break;
        } catch {
          ok = false;
        }
      }
      if (ok) sent++;
      else failed++;
    }
    return { sent, failed };
  };
}
