/**
 * OTLP/JSON (`ExportTraceServiceRequest`, `ExportLogsServiceRequest`,
 * `ExportMetricsServiceRequest`): resource attributes in, `ownership.*`
 * resource attributes out. Everything but `ownership.*` keys is left as it was.
 */
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { ownershipPrefix } from '#shared/ownership/ownership-context';

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

/** Replaces the resource's `ownership.*` attributes (Portolan is authoritative for them) with `ownership`. */
export function stampResource(envelope: ResourceEnvelope, ownership: Record<string, string>): void {
  const kept = (envelope.resource?.attributes ?? []).filter((kv) => !kv.key?.startsWith(ownershipPrefix));
  const stamped = Object.entries(ownership).map(([key, value]) => ({ key, value: { stringValue: value } }));
  envelope.resource = { ...envelope.resource, attributes: [...kept, ...stamped] };
}
