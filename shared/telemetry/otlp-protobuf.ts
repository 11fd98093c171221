/**
 * OTLP/protobuf without a full decode. Traces, logs and metrics requests share
 * one shape up to the resource — `Export*ServiceRequest { repeated Resource* = 1 }`,
 * `Resource* { Resource resource = 1; ... }`, `Resource { repeated KeyValue
 * attributes = 1; ... }` — so the enricher reads only the resource attributes
 * and splices a new `Resource` into each `Resource*`, copying every other byte
 * (spans, log records, data points) untouched. That is both signal-agnostic and
 * far cheaper than decoding and re-encoding the whole request.
 */

import { isUtf8 } from 'node:buffer';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { ownershipPrefix } from '#shared/ownership/ownership-context';
import type { Signal } from '#shared/telemetry/otlp-json';
import {
  lengthDelimitedEnd,
  MalformedProtobuf,
  ProtobufReader,
  varintValue,
  type WireField,
  wireType,
} from '#shared/telemetry/protobuf-reader';
import { delimitedLength, lengthDelimited, writeVarint } from '#shared/telemetry/protobuf-writer';

type AttributeValue = string | string[] | undefined;

const stringValue = (buf: Buffer, start: number, end: number) => buf.toString('utf8', start, end);

const isField = (field: WireField, number: number, type: number) =>
  field.number === number && field.wireType === type;

/**
 * A scalar `AnyValue` field as a string: string_value = 1, bool_value = 2,
 * int_value = 3, double_value = 4; undefined for any other field.
 */
function scalarValue(buf: Buffer, field: WireField): string | undefined {
  if (isField(field, 1, wireType.lengthDelimited)) return stringValue(buf, field.valueStart, field.valueEnd);
  if (isField(field, 2, wireType.varint)) return String(varintValue(buf, field) !== 0);
  if (isField(field, 3, wireType.varint)) return String(varintValue(buf, field));
  if (isField(field, 4, wireType.fixed64)) return String(buf.readDoubleLE(field.valueStart));
  return undefined;
}

/**
 * `AnyValue` → string (string, bool, int, double) or string list (array of
 * those). `nested`: an array's element, whose own arrays are not read (they
 * would be dropped anyway, and a producer could nest them deep enough to
 * exhaust the stack). The last recognised field wins.
 */
function anyValue(buf: Buffer, start: number, end: number, nested = false): AttributeValue {
  const reader = new ProtobufReader(buf, start, end);
  let result: AttributeValue;
  while (!reader.done) {
    const field = reader.readField();
    if (isField(field, 5, wireType.lengthDelimited)) {
      if (!nested) result = arrayValue(buf, field);
    } else result = scalarValue(buf, field) ?? result;
  }
  return result;
}

/** `ArrayValue { repeated AnyValue values = 1 }`: the elements that are scalars, as strings. */
function arrayValue(buf: Buffer, field: WireField): string[] {
  const values: string[] = [];
  const reader = new ProtobufReader(buf, field.valueStart, field.valueEnd);
  while (!reader.done) {
    const element = reader.readField();
    if (!isField(element, 1, wireType.lengthDelimited)) continue;
    const value = anyValue(buf, element.valueStart, element.valueEnd, true);
    if (typeof value === 'string') values.push(value);
  }
  return values;
}

/**
 * An attribute key, which must be UTF-8: decoders read other bytes
 * differently (Buffer replaces a stray continuation byte, protobufjs reading
 * a Uint8Array drops it, so `own\x80ership.team` is `ownership.team` to it).
 */
function keyString(buf: Buffer, start: number, end: number): string {
  const key = stringValue(buf, start, end);
  if (key.includes('\uFFFD') && !isUtf8(buf.subarray(start, end)))
    throw new MalformedProtobuf('an attribute key that is not UTF-8');
  return key;
}

/** `KeyValue { string key = 1; AnyValue value = 2 }`. */
function keyValue(buf: Buffer, start: number, end: number): { key: string; value: AttributeValue } {
  const reader = new ProtobufReader(buf, start, end);
  let key = '';
  let value: AttributeValue;
  while (!reader.done) {
    const field = reader.readField();
    if (field.number === 1) key = keyString(buf, field.valueStart, lengthDelimitedEnd(field));
    else if (field.number === 2) value = anyValue(buf, field.valueStart, lengthDelimitedEnd(field));
  }
  return { key, value };
}

/** `KeyValue { key = 1; AnyValue value = 2 { string_value = 1 } }` for a string attribute. */
const encodeStringAttribute = (key: string, value: string) =>
  lengthDelimited(
    1,
    Buffer.concat([
      lengthDelimited(1, Buffer.from(key)),
      lengthDelimited(2, lengthDelimited(1, Buffer.from(value))),
    ]),
  );

/** One `Resource{Spans,Logs,Metrics}` of the request, taken apart around its resource. */
interface ResourceSlot {
  /** The bytes of `Resource*` before and after its (first) `resource` field. */
  before: Buffer[];
  after: Buffer[];
  /**
   * Raw fields of the `Resource` other than `ownership.*` attributes, from
   * every `resource` field of the `Resource*`: a repeated message field is
   * merged by conformant decoders and replaced by protobufjs, so it is written
   * back as one, which both read alike.
   */
  resourceFields: Buffer[];
  attributes: SourceAttributes;
  seenResource: boolean;
}

const encodedCache = new WeakMap<Record<string, string>, Buffer>();

/** The `KeyValue` fields for `ownership`, encoded once per distinct ownership context. */
function encodedOwnership(ownership: Record<string, string>): Buffer {
  let encoded = encodedCache.get(ownership);
  if (!encoded) {
    encoded = Buffer.concat(
      Object.entries(ownership).map(([key, value]) => encodeStringAttribute(key, value)),
    );
    encodedCache.set(ownership, encoded);
  }
  return encoded;
}

const sum = (parts: Buffer[]) => parts.reduce((total, part) => total + part.length, 0);

/** The request with each slot's resource rebuilt around its stamped attributes, in one allocation. */
function writeRequest(slots: ResourceSlot[], stamped: Buffer[]): Buffer {
  const sizes = slots.map((slot, index) => {
    const resource = sum(slot.resourceFields) + (stamped[index] as Buffer).length;
    const body = sum(slot.before) + delimitedLength(resource) + sum(slot.after);
    return { resource, body };
  });
  const out = Buffer.allocUnsafe(sizes.reduce((total, size) => total + delimitedLength(size.body), 0));
  let pos = 0;
  const copy = (part: Buffer) => {
    pos += part.copy(out, pos);
  };
  for (const [index, slot] of slots.entries()) {
    const size = sizes[index] as { resource: number; body: number };
    out[pos++] = 0x0a; // field 1, length-delimited: Resource{Spans,Logs,Metrics}
    pos = writeVarint(out, pos, size.body);
    for (const part of slot.before) copy(part);
    out[pos++] = 0x0a; // field 1: resource
    pos = writeVarint(out, pos, size.resource);
    for (const part of slot.resourceFields) copy(part);
    copy(stamped[index] as Buffer);
    for (const part of slot.after) copy(part);
  }
  return out;
}

export interface OtlpProtobufRequest {
  /** Inferred from the first record (span ids, log timestamps, metric names); undefined when empty. */
  signal: Signal | undefined;
  sources: SourceAttributes[];
  encode(ownership: Record<string, string>[]): Buffer;
}

/** Parses an OTLP protobuf request down to its resources; undefined when the bytes are not one. */
export function readOtlpProtobuf(buf: Buffer): OtlpProtobufRequest | undefined {
  if (buf.length === 0 || buf[0] !== 0x0a) return undefined;
  try {
    const request = readResourceSlots(buf);
    if (!request) return undefined;
    const { slots, signal } = request;
    return {
      signal,
      sources: slots.map((slot) => slot.attributes),
      encode(ownership) {
        return writeRequest(
          slots,
          slots.map((_, index) => encodedOwnership(ownership[index] ?? {})),
        );
      },
    };
  } catch (error) {
    if (error instanceof MalformedProtobuf || error instanceof RangeError) return undefined;
    throw error;
  }
}

/** Every `Resource*` of the request; undefined when a top-level field is anything else. */
function readResourceSlots(buf: Buffer): { slots: ResourceSlot[]; signal: Signal | undefined } | undefined {
  const request = new ProtobufReader(buf);
  const slots: ResourceSlot[] = [];
  let signal: Signal | undefined;
  while (!request.done) {
    const field = request.readField();
    if (!isField(field, 1, wireType.lengthDelimited)) return undefined;
    const read = readResourceSlot(buf, field, signal !== undefined);
    signal ??= read.signal;
    slots.push(read.slot);
  }
  return { slots, signal };
}

/**
 * One `Resource*`: its resource's attributes read, every other field kept as
 * raw bytes. Until `signalKnown`, its scopes are looked at for the signal.
 */
function readResourceSlot(
  buf: Buffer,
  slotField: WireField,
  signalKnown: boolean,
): { slot: ResourceSlot; signal: Signal | undefined } {
  const slot: ResourceSlot = {
    before: [],
    after: [],
    resourceFields: [],
    attributes: {},
    seenResource: false,
  };
  let signal: Signal | undefined;
  const reader = new ProtobufReader(buf, slotField.valueStart, slotField.valueEnd);
  while (!reader.done) {
    const field = reader.readField();
    if (field.number === 1) {
      slot.seenResource = true;
      readResource(buf, field, slot);
      continue;
    }
    if (!signalKnown && signal === undefined && isField(field, 2, wireType.lengthDelimited))
      signal = signalOfScope(buf, field.valueStart, field.valueEnd);
    (slot.seenResource ? slot.after : slot.before).push(buf.subarray(field.start, field.valueEnd));
  }
  return { slot, signal };
}

/** A `Resource`'s fields into `slot`: attributes read (the producer's `ownership.*` dropped), all kept raw. */
function readResource(buf: Buffer, resourceField: WireField, slot: ResourceSlot) {
  const reader = new ProtobufReader(buf, resourceField.valueStart, lengthDelimitedEnd(resourceField));
  while (!reader.done) {
    const field = reader.readField();
    if (field.number === 1) {
      const attribute = keyValue(buf, field.valueStart, lengthDelimitedEnd(field));
      if (attribute.key.startsWith(ownershipPrefix)) continue;
      if (attribute.value !== undefined) slot.attributes[attribute.key] = attribute.value;
    }
    slot.resourceFields.push(buf.subarray(field.start, field.valueEnd));
  }
}

/** ScopeSpans/ScopeLogs/ScopeMetrics field 2 holds a span (trace_id: 16 bytes), a log record (fixed64 time) or a metric (name). */
function signalOfScope(buf: Buffer, start: number, end: number): Signal | undefined {
  const scope = new ProtobufReader(buf, start, end);
  while (!scope.done) {
    const field = scope.readField();
    if (!isField(field, 2, wireType.lengthDelimited)) continue;
    const item = new ProtobufReader(buf, field.valueStart, field.valueEnd);
    if (item.done) return undefined;
    const first = item.readField();
    if (isField(first, 1, wireType.lengthDelimited))
      return first.valueEnd - first.valueStart === 16 ? 'traces' : 'metrics';
    if (first.wireType === wireType.fixed64) return 'logs';
    return isField(first, 2, wireType.lengthDelimited) ? 'metrics' : 'logs';
  }
  return undefined;
}
