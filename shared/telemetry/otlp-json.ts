/**
 * OTLP/JSON (`ExportTraceServiceRequest`, `ExportLogsServiceRequest`,
 * `ExportMetricsServiceRequest`): resource attributes in, `ownership.*`
 * resource attributes out. Everything but `ownership.*` keys is left as it was.
 */
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { ownershipPrefix } from '#shared/ownership/ownership-context';
import { insertionCache } from '#shared/telemetry/json-records';
import type { ScannedRequest } from '#shared/telemetry/json-scan';

export type Signal = 'traces' | 'logs' | 'metrics';

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface ResourceEnvelope {
  resource?: { attributes?: KeyValue[]; droppedAttributesCount?: number };
}

const resourceListKeys: Record<Signal, string> = {
  traces: 'resourceSpans',
  logs: 'resourceLogs',
  metrics: 'resourceMetrics',
};

/** The signal of a parsed OTLP/JSON request, or undefined when it is not one. */
export function otlpJsonSignal(request: unknown): Signal | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return undefined;
  for (const [signal, listKey] of Object.entries(resourceListKeys) as [Signal, string][]) {
    if (Array.isArray((request as Record<string, unknown>)[listKey])) return signal;
  }
  return undefined;
}

function scalar(value: AnyValue | undefined): string | undefined {
  if (!value) return undefined;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.boolValue !== undefined) return String(value.boolValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  return undefined;
}

export function attributesOf(keyValues: KeyValue[] | undefined): SourceAttributes {
  const attributes: SourceAttributes = {};
  for (const { key, value } of keyValues ?? []) {
    const single = scalar(value);
    if (single !== undefined) attributes[key] = single;
    else if (value?.arrayValue) {
      attributes[key] = (value.arrayValue.values ?? [])
        .map(scalar)
        .filter((v): v is string => v !== undefined);
    }
  }
  return attributes;
}

export function resourcesOf(request: Record<string, unknown>, signal: Signal): ResourceEnvelope[] {
  return (request[resourceListKeys[signal]] as ResourceEnvelope[]).map((r) =>
    typeof r === 'object' && r !== null ? r : {},
  );
}

const stampedCache = new WeakMap<Record<string, string>, string>();

/** `ownership` as OTLP/JSON `KeyValue`s, serialized once per distinct ownership context. */
function stampedJson(ownership: Record<string, string>): string {
  let json = stampedCache.get(ownership);
  if (json === undefined) {
    json = Object.entries(ownership)
      .map(([key, value]) => JSON.stringify({ key, value: { stringValue: value } }))
      .join(',');
    stampedCache.set(ownership, json);
  }
  return json;
}

/** `JSON.stringify(object)` with `key`'s value given as ready JSON. */
function stringifyWith(object: Record<string, unknown>, key: string, raw: string): string {
  let out = '';
  for (const name in object) {
    const json = name === key ? raw : JSON.stringify(object[name]);
    if (json !== undefined) out += `${out ? ',' : ''}${JSON.stringify(name)}:${json}`;
  }
  if (!Object.hasOwn(object, key)) out += `${out ? ',' : ''}${JSON.stringify(key)}:${raw}`;
  return `{${out}}`;
}

/**
 * The request as JSON with each resource's `ownership.*` attributes replaced
 * by `ownership[i]` (Portolan is authoritative for them); everything else as
 * parsed. The stamped attributes are serialized once per ownership context,
 * not once per record.
 */
export function stringifyStamped(
  request: Record<string, unknown>,
  signal: Signal,
  ownership: Record<string, string>[],
): string {
  const listKey = resourceListKeys[signal];
  const envelopes = (request[listKey] as unknown[]).map((envelope, i) => {
    if (typeof envelope !== 'object' || envelope === null) return JSON.stringify(envelope);
    const resource = ((envelope as ResourceEnvelope).resource ?? {}) as Record<string, unknown>;
    const kept = ((resource.attributes as KeyValue[] | undefined) ?? [])
      .filter((kv) => !kv.key?.startsWith(ownershipPrefix))
      .map((kv) => JSON.stringify(kv));
    const stamped = stampedJson(ownership[i] ?? {});
    if (stamped) kept.push(stamped);
    const resourceJson = stringifyWith(resource, 'attributes', `[${kept.join(',')}]`);
    return stringifyWith(envelope as Record<string, unknown>, 'resource', resourceJson);
  });
  return stringifyWith(request, listKey, `[${envelopes.join(',')}]`);
}

/** The stamped `KeyValue`s as bytes, to insert into a resource's attributes array. */
const stampedBytes = insertionCache(stampedJson);

/** `buf` with `ownership[i]` inserted at the end of resource `i`'s attributes, in one allocation. */
export function insertStamped(
  buf: Buffer,
  ends: readonly { at: number; empty: boolean }[],
  ownership: Record<string, string>[],
): Buffer {
  const inserts = ends.map((end, i) => {
    const bytes = stampedBytes(ownership[i] ?? {});
    return end.empty ? bytes.first : bytes.after;
  });
  const out = Buffer.allocUnsafe(buf.length + inserts.reduce((n, b) => n + b.length, 0));
  let from = 0;
  let pos = 0;
  for (const [i, end] of ends.entries()) {
    pos += buf.copy(out, pos, from, end.at);
    pos += (inserts[i] as Buffer).copy(out, pos);
    from = end.at;
  }
  buf.copy(out, pos, from);
  return out;
}

export const otlpListKeys = Object.values(resourceListKeys);

/**
 * An OTLP/JSON request read by scanning, not parsing: the resources'
 * attributes, and an encoder that inserts ownership into the producer's own
 * bytes. Undefined when the scan found no request, or the producer set
 * `ownership.*` attributes itself (those are replaced, which takes a full parse).
 */
export function otlpFromScan(buf: Buffer, scanned: ScannedRequest) {
  if (!scanned.listKey || !scanned.complete) return undefined;
  const keyValues = scanned.resources.map((r) =>
    Array.isArray(r.attributes) ? (r.attributes as KeyValue[]) : [],
  );
  if (keyValues.some((kvs) => kvs.some((kv) => kv?.key?.startsWith?.(ownershipPrefix)))) return undefined;
  const signal = (Object.keys(resourceListKeys) as Signal[]).find(
    (s) => resourceListKeys[s] === scanned.listKey,
  ) as Signal;
  return {
    signal,
    sources: keyValues.map(attributesOf),
    encode(ownership: Record<string, string>[]) {
      return insertStamped(buf, scanned.resources, ownership);
    },
  };
}
