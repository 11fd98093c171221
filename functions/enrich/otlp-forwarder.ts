/**
 * The optional second sink: enriched OTLP records also POSTed to an OTLP/HTTP
 * endpoint (e.g. Cloud Observability / Lightstep ingest). Its access token is
 * read from Secrets Manager through Powertools' cached provider (refreshed every
 * five minutes) and never logged. The Kinesis output stays the durable sink:
 * a forwarding failure is retried briefly, then counted and logged, not turned
 * into a batch retry that would duplicate the whole batch downstream.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Compression } from '#shared/telemetry/compression';
import type { Signal } from '#shared/telemetry/otlp-json';

export interface OtlpPayload {
  signal: Signal;
  protobuf: boolean;
  compression: Compression;
  data: Buffer;
}

export interface OtlpForwarderOptions {
  endpoint: string;
  tokenSecretArn?: string;
  /** Header carrying the token: `authorization` sends `Bearer <token>`, any other name the bare token. */
  tokenHeader?: string;
  attempts?: number;
  fetchImpl?: typeof fetch;
}

export function makeOtlpForwarder(options: OtlpForwarderOptions) {
  const doFetch = options.fetchImpl ?? fetch;
  const header = (options.tokenHeader ?? 'authorization').toLowerCase();
  return async function forward(payloads: OtlpPayload[]): Promise<{ sent: number; failed: number }> {
    let token: string | undefined;
    if (options.tokenSecretArn)
      token = (await getSecret(options.tokenSecretArn, { maxAge: 300 })) as string | undefined;
    let sent = 0;
    let failed = 0;
    for (const payload of payloads) {
      const headers: Record<string, string> = {
        'content-type': payload.protobuf ? 'application/x-protobuf' : 'application/json',
      };
      if (payload.compression === 'gzip') headers['content-encoding'] = 'gzip';
      if (payload.compression === 'zlib') headers['content-encoding'] = 'deflate';
      if (token) headers[header] = header === 'authorization' ? `Bearer ${token}` : token;
      let ok = false;
      for (let attempt = 0; attempt < (options.attempts ?? 3) && !ok; attempt++) {
        try {
          const response = await doFetch(`${options.endpoint.replace(/\/$/, '')}/v1/${payload.signal}`, {
            method: 'POST',
            headers,
            body: payload.data,
            signal: AbortSignal.timeout(5_000),
          });
          ok = response.ok;
          // 4xx other than throttling will not get better by retrying.
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
