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

class Malformed extends Error {}

/** A minimal protobuf wire reader over one buffer region. */
class Wire {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Malformed('truncated varint');
      const byte = this.buf[this.pos++] as number;
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Malformed('varint too long');
    }
  }

  /** Reads a tag; returns the field number, wire type and the span of the field's value. */
  field(): { field: number; wireType: number; start: number; valueStart: number; valueEnd: number } {
    const start = this.pos;
    const tag = this.varint();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === 0) throw new Malformed('field number 0');
    const valueStart = this.pos;
    switch (wireType) {
      case 0:
        this.varint();
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const length = this.varint();
        const begin = this.pos;
        this.pos += length;
        if (this.pos > this.end) throw new Malformed('length beyond the message');
        return { field, wireType, start, valueStart: begin, valueEnd: this.pos };
      }
      case 5:
        this.pos += 4;
        break;
      case 3:
        this.skipGroup(field);
        break;
      default:
        throw new Malformed(`unexpected wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Malformed('field beyond the message');
    return { field, wireType, start, valueStart, valueEnd: this.pos };
  }

  /**
   * Skips a group (wire types 3 and 4, proto2's deprecated encoding), nested
   * ones included, up to the end tag matching `field`. Iterative: a producer's
   * nesting depth costs no stack.
   */
  private skipGroup(field: number) {
    const open = [field];
    while (open.length > 0) {
      const tag = this.varint();
      const wireType = tag & 7;
      const number = tag >>> 3;
      if (number === 0) throw new Malformed('field number 0');
      if (wireType === 3) open.push(number);
      else if (wireType === 4) {
        if (open.pop() !== number) throw new Malformed('mismatched end group');
      } else if (wireType === 0) this.varint();
      else if (wireType === 1) this.pos += 8;
      else if (wireType === 5) this.pos += 4;
      else if (wireType === 2) this.pos += this.varint();
      else throw new Malformed(`unexpected wire type ${wireType}`);
      if (this.pos > this.end) throw new Malformed('group beyond the message');
    }
  }

  get done() {
    return this.pos >= this.end;
  }
}

function varintBytes(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const lengthDelimited = (field: number, body: Buffer) =>
  Buffer.concat([varintBytes((field << 3) | 2), varintBytes(body.length), body]);

const stringValue = (buf: Buffer, start: number, end: number) => buf.toString('utf8', start, end);

/**
 * The end of a field that must be length-delimited. Decoders differ on a
 * field written with another wire type (protobufjs reads it as length-
 * delimited anyway, others keep it as unknown), so a field that decides
 * where ownership is read or written is refused in any other form.
 */
function lengthDelimitedEnd(f: { field: number; wireType: number; valueEnd: number }): number {
  if (f.wireType !== 2) throw new Malformed(`field ${f.field} is not length-delimited`);
  return f.valueEnd;
}

/**
 * AnyValue → string (string, bool, int, double) or string list (array of
 * those). `nested`: an array's element, whose own arrays are not read (they
 * would be dropped anyway, and a producer could nest them deep enough to
 * exhaust the stack).
 */
function anyValue(buf: Buffer, start: number, end: number, nested = false): string | string[] | undefined {
  const wire = new Wire(buf, start, end);
  let result: string | string[] | undefined;
  while (!wire.done) {
    const f = wire.field();
    if (f.field === 1 && f.wireType === 2) result = stringValue(buf, f.valueStart, f.valueEnd);
    else if (f.field === 2 && f.wireType === 0)
      result = String(new Wire(buf, f.valueStart, f.valueEnd).varint() !== 0);
    else if (f.field === 3 && f.wireType === 0)
      result = String(new Wire(buf, f.valueStart, f.valueEnd).varint());
    else if (f.field === 4 && f.wireType === 1) result = String(buf.readDoubleLE(f.valueStart));
    else if (f.field === 5 && f.wireType === 2 && !nested) {
      const values: string[] = [];
      const array = new Wire(buf, f.valueStart, f.valueEnd);
      while (!array.done) {
        const element = array.field();
        if (element.field !== 1 || element.wireType !== 2) continue;
        const value = anyValue(buf, element.valueStart, element.valueEnd, true);
        if (typeof value === 'string') values.push(value);
      }
      result = values;
    }
  }
  return result;
}

interface KeyValueSpan {
  key: string;
  value: string | string[] | undefined;
  raw: Buffer;
}

/**
 * An attribute key, which must be UTF-8: decoders read other bytes
 * differently (Buffer replaces a stray continuation byte, protobufjs reading
 * a Uint8Array drops it, so `own\x80ership.team` is `ownership.team` to it).
 */
function keyString(buf: Buffer, start: number, end: number): string {
  const key = stringValue(buf, start, end);
  if (key.includes('\uFFFD') && !isUtf8(buf.subarray(start, end)))
    throw new Malformed('an attribute key that is not UTF-8');
  return key;
}

function keyValue(buf: Buffer, start: number, end: number, raw: Buffer): KeyValueSpan {
  const wire = new Wire(buf, start, end);
  let key = '';
  let value: string | string[] | undefined;
  while (!wire.done) {
    const f = wire.field();
    if (f.field === 1) key = keyString(buf, f.valueStart, lengthDelimitedEnd(f));
    else if (f.field === 2) value = anyValue(buf, f.valueStart, lengthDelimitedEnd(f));
  }
  return { key, value, raw };
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
    encoded = Buffer.concat(Object.entries(ownership).map(([k, v]) => encodeStringAttribute(k, v)));
    encodedCache.set(ownership, encoded);
  }
  return encoded;
}

const varintLength = (value: number) => {
  let length = 1;
  for (let v = value; v > 0x7f; v = Math.floor(v / 128)) length++;
  return length;
};

function writeVarint(buf: Buffer, at: number, value: number): number {
  let pos = at;
  let v = value;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

const sum = (parts: Buffer[]) => parts.reduce((n, p) => n + p.length, 0);
/** Tag byte (fields 1-15, wire type 2) + length varint + body. */
const delimitedLength = (bodyLength: number) => 1 + varintLength(bodyLength) + bodyLength;

/** The request with each slot's resource rebuilt around its stamped attributes, in one allocation. */
function writeRequest(slots: ResourceSlot[], stamped: Buffer[]): Buffer {
  const sizes = slots.map((slot, i) => {
    const resource = sum(slot.resourceFields) + (stamped[i] as Buffer).length;
    const body = sum(slot.before) + delimitedLength(resource) + sum(slot.after);
    return { resource, body };
  });
  const out = Buffer.allocUnsafe(sizes.reduce((n, s) => n + delimitedLength(s.body), 0));
  let pos = 0;
  const copy = (part: Buffer) => {
    pos += part.copy(out, pos);
  };
  for (const [i, slot] of slots.entries()) {
    const size = sizes[i] as { resource: number; body: number };
    out[pos++] = 0x0a; // field 1, length-delimited: Resource{Spans,Logs,Metrics}
    pos = writeVarint(out, pos, size.body);
    for (const part of slot.before) copy(part);
    out[pos++] = 0x0a; // field 1: resource
    pos = writeVarint(out, pos, size.resource);
    for (const part of slot.resourceFields) copy(part);
    copy(stamped[i] as Buffer);
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
    const top = new Wire(buf);
    const slots: ResourceSlot[] = [];
    let signal: Signal | undefined;
    while (!top.done) {
      const f = top.field();
      if (f.field !== 1 || f.wireType !== 2) return undefined;
      const slot: ResourceSlot = {
        before: [],
        after: [],
        resourceFields: [],
        attributes: {},
        seenResource: false,
      };
      const inner = new Wire(buf, f.valueStart, f.valueEnd);
      while (!inner.done) {
        const g = inner.field();
        const raw = buf.subarray(g.start, g.valueEnd);
        if (g.field === 1) {
          slot.seenResource = true;
          const resource = new Wire(buf, g.valueStart, lengthDelimitedEnd(g));
          while (!resource.done) {
            const h = resource.field();
            const rawField = buf.subarray(h.start, h.valueEnd);
            if (h.field === 1) {
              const kv = keyValue(buf, h.valueStart, lengthDelimitedEnd(h), rawField);
              if (kv.key.startsWith(ownershipPrefix)) continue;
              if (kv.value !== undefined) slot.attributes[kv.key] = kv.value;
            }
            slot.resourceFields.push(rawField);
          }
        } else {
          if (g.field === 2 && g.wireType === 2 && signal === undefined)
            signal = signalOfScope(buf, g.valueStart, g.valueEnd);
          (slot.seenResource ? slot.after : slot.before).push(raw);
        }
      }
      slots.push(slot);
    }
    return {
      signal,
      sources: slots.map((s) => s.attributes),
      encode(ownership) {
        return writeRequest(
          slots,
          slots.map((_, i) => encodedOwnership(ownership[i] ?? {})),
        );
      },
    };
  } catch (error) {
    if (error instanceof Malformed || error instanceof RangeError) return undefined;
    throw error;
  }
}

/** ScopeSpans/ScopeLogs/ScopeMetrics field 2 holds a span (trace_id: 16 bytes), a log record (fixed64 time) or a metric (name). */
function signalOfScope(buf: Buffer, start: number, end: number): Signal | undefined {
  const scope = new Wire(buf, start, end);
  while (!scope.done) {
    const f = scope.field();
    if (f.field !== 2 || f.wireType !== 2) continue;
    const item = new Wire(buf, f.valueStart, f.valueEnd);
    if (item.done) return undefined;
    const first = item.field();
    if (first.field === 1 && first.wireType === 2)
      return first.valueEnd - first.valueStart === 16 ? 'traces' : 'metrics';
    if (first.wireType === 1) return 'logs';
    return first.field === 2 && first.wireType === 2 ? 'metrics' : 'logs';
  }
  return undefined;
}
