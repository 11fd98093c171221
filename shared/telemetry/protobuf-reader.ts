/**
 * A minimal protobuf wire reader over one region of a buffer: varints, tags,
 * and each wire type's extent, without a schema. Callers walk the fields they
 * know and copy the rest as raw bytes. Malformed input throws
 * `MalformedProtobuf` (or a `RangeError` from a Buffer read past its end).
 */

export class MalformedProtobuf extends Error {}

/** One field on the wire: its number and wire type, and where its tag and its value lie in the buffer. */
export interface WireField {
  number: number;
  wireType: number;
  /** The offset of the field's tag: `buf.subarray(start, valueEnd)` is the whole field. */
  start: number;
  /** The value's bytes; for a length-delimited field, without the length prefix. */
  valueStart: number;
  valueEnd: number;
}

export const wireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

export class ProtobufReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done() {
    return this.pos >= this.end;
  }

  /** Up to 64 bits; exact up to 2^53, which covers every length and the values OTLP attributes carry. */
  readVarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new MalformedProtobuf('truncated varint');
      const byte = this.buf[this.pos++] as number;
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new MalformedProtobuf('varint too long');
    }
  }

  /** Reads a tag and steps over the field's value, which must end inside this region. */
  readField(): WireField {
    const start = this.pos;
    const tag = this.readVarint();
    const type = tag & 7;
    const number = tag >>> 3;
    if (number === 0) throw new MalformedProtobuf('field number 0');
    if (type === wireType.lengthDelimited) {
      const length = this.readVarint();
      const valueStart = this.pos;
      this.pos += length;
      if (this.pos > this.end) throw new MalformedProtobuf('length beyond the message');
      return { number, wireType: type, start, valueStart, valueEnd: this.pos };
    }
    const valueStart = this.pos;
    if (type === wireType.startGroup) this.skipGroup(number);
    else this.skipScalar(type);
    if (this.pos > this.end) throw new MalformedProtobuf('field beyond the message');
    return { number, wireType: type, start, valueStart, valueEnd: this.pos };
  }

  /** Steps over a varint, fixed64 or fixed32 value; any other wire type is refused. */
  private skipScalar(type: number) {
    if (type === wireType.varint) this.readVarint();
    else if (type === wireType.fixed64) this.pos += 8;
    else if (type === wireType.fixed32) this.pos += 4;
    else throw new MalformedProtobuf(`unexpected wire type ${type}`);
  }

  /**
   * Skips a group (wire types 3 and 4, proto2's deprecated encoding), nested
   * ones included, up to the end tag matching `number`. Iterative: a
   * producer's nesting depth costs no stack.
   */
  private skipGroup(number: number) {
    const open = [number];
    while (open.length > 0) {
      const tag = this.readVarint();
      const type = tag & 7;
      const inner = tag >>> 3;
      if (inner === 0) throw new MalformedProtobuf('field number 0');
      if (type === wireType.startGroup) open.push(inner);
      else if (type === wireType.endGroup) {
        if (open.pop() !== inner) throw new MalformedProtobuf('mismatched end group');
      } else if (type === wireType.lengthDelimited) this.pos += this.readVarint();
      else this.skipScalar(type);
      if (this.pos > this.end) throw new MalformedProtobuf('group beyond the message');
    }
  }
}

/** The varint value of a field read with wire type 0. */
export const varintValue = (buf: Buffer, field: WireField) =>
  new ProtobufReader(buf, field.valueStart, field.valueEnd).readVarint();

/**
 * The end of a field that must be length-delimited. Decoders differ on a
 * field written with another wire type (protobufjs reads it as length-
 * delimited anyway, others keep it as unknown), so a field that decides
 * what a reader sees is refused in any other form.
 */
export function lengthDelimitedEnd(field: WireField): number {
  if (field.wireType !== wireType.lengthDelimited)
    throw new MalformedProtobuf(`field ${field.number} is not length-delimited`);
  return field.valueEnd;
}
