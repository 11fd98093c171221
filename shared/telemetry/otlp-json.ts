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
interface ResourceEnvelope {
  resource?: { attributes?: unknown; droppedAttributesCount?: number };
}

const resourceListKeys: Record<Signal, string> = {
  traces: 'resourceSpans',
  logs: 'resourceLogs',
  metrics: 'resourceMetrics',
};

/**
 * The signal of a parsed OTLP/JSON request, or undefined when it is not one.
 * `ambiguous` when it holds more than one signal's list: only one would be
 * stamped, and a consumer may read the other.
 */
export function otlpJsonSignal(request: unknown): Signal | 'ambiguous' | undefined {
  if (!isObject(request)) return undefined;
  let found: Signal | undefined;
  for (const [signal, listKey] of Object.entries(resourceListKeys) as [Signal, string][]) {
    if (!Object.hasOwn(request, listKey)) continue;
    if (found) return 'ambiguous';
    if (Array.isArray(request[listKey])) found = signal;
    else return undefined;
  }
  return found;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A scalar AnyValue as text; undefined for anything else, however malformed. */
function scalar(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const { stringValue, intValue, boolValue, doubleValue } = value as AnyValue;
  if (typeof stringValue === 'string') return stringValue;
  if (isPrimitive(intValue)) return String(intValue);
  if (isPrimitive(boolValue)) return String(boolValue);
  if (isPrimitive(doubleValue)) return String(doubleValue);
  return undefined;
}

const isPrimitive = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * A resource's attributes as resolution reads them. Producer input: anything
 * that is not a list of `{key, value}` objects is skipped, not trusted.
 */
export function attributesOf(keyValues: unknown): SourceAttributes {
  const attributes: SourceAttributes = {};
  if (!Array.isArray(keyValues)) return attributes;
  for (const keyValue of keyValues) {
    if (!isObject(keyValue) || typeof keyValue.key !== 'string') continue;
    const value = keyValue.value;
    const single = scalar(value);
    if (single !== undefined) attributes[keyValue.key] = single;
    else if (isObject(value) && isObject(value.arrayValue)) {
      const values = value.arrayValue.values;
      attributes[keyValue.key] = Array.isArray(values)
        ? values.map(scalar).filter((v): v is string => v !== undefined)
        : [];
    }
  }
  return attributes;
}

export function resourcesOf(request: Record<string, unknown>, signal: Signal): ResourceEnvelope[] {
  return (request[resourceListKeys[signal]] as unknown[]).map((r) => (isObject(r) ? r : {}));
}

/** A resource's attributes as `resourcesOf` hands them over, whatever the producer put there. */
export function resourceAttributesOf(envelope: ResourceEnvelope): unknown {
  const resource = (envelope as Record<string, unknown>).resource;
  return isObject(resource) ? resource.attributes : undefined;
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
    if (!isObject(envelope)) return JSON.stringify(envelope);
    const resource = isObject(envelope.resource) ? envelope.resource : {};
    const attributes = Array.isArray(resource.attributes) ? (resource.attributes as unknown[]) : [];
    const kept = attributes
      .filter((kv) => !isOwnershipAttribute(kv))
      .map((kv) => JSON.stringify(kv) ?? 'null');
    const stamped = stampedJson(ownership[i] ?? {});
    if (stamped) kept.push(stamped);
    const resourceJson = stringifyWith(resource, 'attributes', `[${kept.join(',')}]`);
    return stringifyWith(envelope as Record<string, unknown>, 'resource', resourceJson);
  });
  return stringifyWith(request, listKey, `[${envelopes.join(',')}]`);
}

const isOwnershipAttribute = (kv: unknown) =>
  isObject(kv) && typeof kv.key === 'string' && kv.key.startsWith(ownershipPrefix);

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
  if (scanned.duplicateKeys) return undefined;
  const keyValues = scanned.resources.map((r) => (Array.isArray(r.attributes) ? r.attributes : []));
  if (keyValues.some((kvs) => kvs.some(isOwnershipAttribute))) return undefined;
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
