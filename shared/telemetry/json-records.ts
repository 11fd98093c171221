/**
 * JSON-shaped records: CloudWatch Logs subscription envelopes and newline-
 * delimited JSON log lines. Ownership goes in as top-level keys with the same
 * dotted names as on OTLP resources (`"ownership.team": "payments"`).
 */
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { ownershipPrefix } from '#shared/ownership/ownership-context';

/** A CloudWatch Logs subscription payload (already gunzipped and parsed). */
export interface CloudWatchLogsEnvelope {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: { id: string; timestamp: number; message: string }[];
}

export function isCloudWatchLogsEnvelope(value: unknown): value is CloudWatchLogsEnvelope {
  const v = value as Partial<CloudWatchLogsEnvelope> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.messageType === 'string' && Array.isArray(v.logEvents)
  );
}

/**
 * The attributes CloudWatch Logs tells us, named as the OpenTelemetry AWS
 * semantic conventions name them. Only string fields are read: anything else
 * the producer wrote there is absent, not an error.
 */
export function cloudWatchAttributes(envelope: {
  logGroup?: unknown;
  logStream?: unknown;
  owner?: unknown;
}): SourceAttributes {
  const attributes: SourceAttributes = {};
  const { logGroup, logStream, owner } = envelope;
  if (typeof logGroup === 'string') attributes['aws.log.group.names'] = [logGroup];
  if (typeof logStream === 'string') attributes['aws.log.stream.names'] = [logStream];
  if (typeof owner === 'string') attributes['cloud.account.id'] = owner;
  attributes['cloud.provider'] = 'aws';
  // Lambda's log groups name the function: /aws/lambda/<function name>.
  if (typeof logGroup === 'string' && logGroup.startsWith('/aws/lambda/'))
    attributes['faas.name'] = logGroup.slice('/aws/lambda/'.length);
  return attributes;
}

/** The object with its `ownership.*` keys replaced by `ownership`. */
export function stampObject<T extends Record<string, unknown>>(
  object: T,
  ownership: Record<string, string>,
): T {
  const stamped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key.startsWith(ownershipPrefix)) continue;
    // Assigned, a producer's `__proto__` key would set the prototype and vanish from the output.
    if (key === '__proto__')
      Object.defineProperty(stamped, key, { value, enumerable: true, writable: true, configurable: true });
    else stamped[key] = value;
  }
  return Object.assign(stamped, ownership) as T;
}

/**
 * `render(ownership)` with and without a leading comma, as text and as bytes,
 * built once per ownership context (a batch has a few; its records, thousands).
 */
export function insertionCache(render: (ownership: Record<string, string>) => string) {
  const cache = new WeakMap<Record<string, string>, Insertion>();
  return (ownership: Record<string, string>) => {
    let cached = cache.get(ownership);
    if (!cached) {
      const first = render(ownership);
      const after = first ? `,${first}` : '';
      cached = { firstText: first, afterText: after, first: Buffer.from(first), after: Buffer.from(after) };
      cache.set(ownership, cached);
    }
    return cached;
  };
}

export interface Insertion {
  firstText: string;
  afterText: string;
  first: Buffer;
  after: Buffer;
}

/** `"ownership.team":"x",…`: the keys to add to a JSON object. */
export const objectSuffix = insertionCache((ownership) => JSON.stringify(ownership).slice(1, -1));

/** `buf` (a JSON object whose closing brace is at `close`) with `ownership` inserted before that brace. */
export function spliceObject(
  buf: Buffer,
  close: number,
  empty: boolean,
  ownership: Record<string, string>,
): Buffer {
  const suffix = objectSuffix(ownership);
  const insert = empty ? suffix.first : suffix.after;
  const out = Buffer.allocUnsafe(buf.length + insert.length);
  buf.copy(out, 0, 0, close);
  insert.copy(out, close);
  buf.copy(out, close + insert.length, close);
  return out;
}

/** The top-level keys of a CloudWatch Logs envelope that resolution reads. */
export const cloudWatchKeys = ['messageType', 'owner', 'logGroup', 'logStream'];
