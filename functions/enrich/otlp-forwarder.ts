/**
 * The optional second sink: enriched OTLP records also POSTed to an OTLP/HTTP
 * endpoint (e.g. Cloud Observability / Lightstep ingest). Its access token is
 * read from Secrets Manager through Powertools' cached provider (refreshed every
 * five minutes) and never logged.
 *
 * A batch of thousands of records becomes a few requests: records of one
 * signal and encoding are merged into requests of bounded size, sent a few at
 * a time, throttling and server errors retried with full-jitter backoff
 * (waiting as long as `Retry-After` asks), other 4xx never. Forwarding stops
 * within a time budget taken from the invocation's remaining time: the Kinesis
 * output stays the durable sink, and a forwarder that ran past the function's
 * timeout would fail the batch and duplicate it downstream. What was not
 * forwarded is counted, never thrown.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { optionalWholeNumberFromEnv } from '#shared/config/env-numbers';
import { retryAfterMs, retryWithBackoff } from '#shared/retry/retry-with-backoff';
import { type Compression, compress, decompress } from '#shared/telemetry/compression';
import type { Signal } from '#shared/telemetry/otlp-json';
import { mergeOtlpRequests } from '#shared/telemetry/otlp-request-merge';

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
  /** How merged requests are encoded on the wire. @default 'gzip' */
  compression?: 'gzip' | 'none';
  /** The largest request body before compression; a record larger than it is sent alone. @default 4 MiB */
  maxRequestBytes?: number;
  /** Requests in flight at once. @default 8 */
  concurrency?: number;
  /** Attempts per request, the first included. @default 5 */
  attempts?: number;
  /** The longest one attempt may take. @default 5000 */
  requestTimeoutMs?: number;
  /**
   * Of the invocation's remaining time, what forwarding leaves to the work
   * after it (the unowned-source flush, metrics) and the response. @default 5000
   */
  reserveMs?: number;
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface ForwardResult {
  /** Records the endpoint accepted. */
  sent: number;
  /** Records not forwarded: refused, out of attempts, or not tried before the time budget ran out. */
  failed: number;
  /** Requests made (attempts excluded). */
  requests: number;
  /** Of `failed`, records whose request was never started for lack of time. */
  outOfTime: number;
}

/** One request to send: its body as encoded on the wire, and the records it carries. */
interface OutgoingRequest {
  signal: Signal;
  protobuf: boolean;
  body: Buffer;
  encoding: Compression;
  records: number;
}

const contentEncoding: Record<Compression, string | undefined> = {
  gzip: 'gzip',
  zlib: 'deflate',
  none: undefined,
};
/** Waits between attempts at a request: full jitter under 100 ms × 2^n, at most 2 s (or what Retry-After asks). */
const requestBackoff = { baseMs: 100, capMs: 2_000 };
/** An attempt given less time than this would only time out. */
const minAttemptMs = 50;

export function makeOtlpForwarder(options: OtlpForwarderOptions) {
  const doFetch = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  const header = (options.tokenHeader ?? 'authorization').toLowerCase();
  const url = (signal: Signal) => `${options.endpoint.replace(/\/$/, '')}/v1/${signal}`;

  /** Forwards the payloads within `remainingMs` (the invocation's remaining time) less the reserve. */
  return async function forward(
    payloads: OtlpPayload[],
    budget: { remainingMs?: number } = {},
  ): Promise<ForwardResult> {
    const deadline =
      budget.remainingMs === undefined
        ? Number.POSITIVE_INFINITY
        : now() + budget.remainingMs - (options.reserveMs ?? 5_000);
    const result: ForwardResult = { sent: 0, failed: 0, requests: 0, outOfTime: 0 };
    if (payloads.length === 0) return result;
    let token: string | undefined;
    try {
      if (options.tokenSecretArn)
        token = (await getSecret(options.tokenSecretArn, { maxAge: 300 })) as string | undefined;
    } catch {
      // Without its token nothing would be accepted; the batch itself is delivered.
      return { ...result, failed: payloads.length };
    }
    const headersFor = (request: OutgoingRequest) => {
      const headers: Record<string, string> = {
        'content-type': request.protobuf ? 'application/x-protobuf' : 'application/json',
      };
      const encoding = contentEncoding[request.encoding];
      if (encoding) headers['content-encoding'] = encoding;
      if (token) headers[header] = header === 'authorization' ? `Bearer ${token}` : token;
      return headers;
    };

    const sendOnce = async (request: OutgoingRequest) => {
      const timeout = Math.min(options.requestTimeoutMs ?? 5_000, deadline - now());
      try {
        const response = await doFetch(url(request.signal), {
          method: 'POST',
          headers: headersFor(request),
          body: request.body,
          signal: AbortSignal.timeout(Math.max(1, timeout)),
        });
        await response.body?.cancel();
        if (response.ok) return { done: true as const, value: true };
        // Other 4xx will not get better by retrying.
        if (response.status !== 429 && response.status < 500) return { done: true as const, value: false };
        const wait = retryAfterMs(response.headers.get('retry-after'), now());
        return { done: false as const, value: false, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
      } catch {
        return { done: false as const, value: false };
      }
    };

    const requests = outgoingRequests(payloads, options);
    let next = 0;
    const worker = async () => {
      for (let request = requests[next++]; request; request = requests[next++]) {
        if (deadline - now() < minAttemptMs) {
          result.failed += request.records;
          result.outOfTime += request.records;
          continue;
        }
        result.requests++;
        const { value: accepted } = await retryWithBackoff(() => sendOnce(request), {
          maxAttempts: options.attempts ?? 5,
          ...requestBackoff,
          deadline: deadline - minAttemptMs,
          now,
          ...(options.sleep ? { sleep: options.sleep } : {}),
          ...(options.random ? { random: options.random } : {}),
        });
        if (accepted) result.sent += request.records;
        else result.failed += request.records;
      }
    };
    const workers = Math.max(1, Math.min(options.concurrency ?? 8, requests.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return result;
  };
}

/** The forwarder's settings from the function's environment (`OTLP_*`); throws naming a bad one. */
export function otlpForwarderOptionsFromEnv(env: NodeJS.ProcessEnv): OtlpForwarderOptions {
  const endpoint = env.OTLP_ENDPOINT;
  if (!endpoint) throw new Error('OTLP_ENDPOINT is not set');
  const compression = env.OTLP_COMPRESSION ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'none')
    throw new Error('OTLP_COMPRESSION must be gzip or none');
  const maxRequestBytes = optionalWholeNumberFromEnv(env, 'OTLP_MAX_REQUEST_BYTES', {
    min: 1024,
    max: 64 * 1024 * 1024,
    meaning: 'bytes',
  });
  return {
    endpoint,
    compression,
    ...(maxRequestBytes === undefined ? {} : { maxRequestBytes }),
    ...(env.OTLP_TOKEN_SECRET_ARN ? { tokenSecretArn: env.OTLP_TOKEN_SECRET_ARN } : {}),
    ...(env.OTLP_TOKEN_HEADER ? { tokenHeader: env.OTLP_TOKEN_HEADER } : {}),
  };
}

/**
 * The payloads as requests: merged per signal and encoding up to the size
 * bound and encoded per the endpoint's setting. A payload that does not
 * decompress goes alone as it came, for the endpoint to judge; one alone in
 * its request and already in the endpoint's encoding is sent as it is.
 */
function outgoingRequests(payloads: OtlpPayload[], options: OtlpForwarderOptions): OutgoingRequest[] {
  const encoding = options.compression ?? 'gzip';
  const asItCame = (p: OtlpPayload): OutgoingRequest => ({
    signal: p.signal,
    protobuf: p.protobuf,
    body: p.data,
    encoding: p.compression,
    records: 1,
  });
  const undecodable: OutgoingRequest[] = [];
  const parts: (OtlpPayload & { plain: Buffer })[] = [];
  for (const payload of payloads) {
    try {
      parts.push({ ...payload, plain: decompress(payload.data, payload.compression) });
    } catch {
      undecodable.push(asItCame(payload));
    }
  }
  const merged = mergeOtlpRequests(parts, options.maxRequestBytes ?? 4 * 1024 * 1024).map((request) => {
    const only = request.parts.length === 1 ? request.parts[0] : undefined;
    if (only?.compression === encoding) return asItCame(only);
    return {
      signal: request.signal,
      protobuf: request.protobuf,
      body: compress(request.body, encoding),
      encoding,
      records: request.parts.length,
    };
  });
  return [...merged, ...undecodable];
}
