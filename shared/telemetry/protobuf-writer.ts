/**
 * The protobuf wire writer's few pieces: varints and length-delimited fields,
 * either as small buffers or written in place into one preallocated buffer.
 */

/** A varint's bytes. */
export function varintBytes(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A length-delimited field (wire type 2): tag, length, body. */
export const lengthDelimited = (field: number, body: Buffer) =>
  Buffer.concat([varintBytes((field << 3) | 2), varintBytes(body.length), body]);

/** How many bytes `value` takes as a varint. */
export const varintLength = (value: number) => {
  let length = 1;
  for (let rest = value; rest > 0x7f; rest = Math.floor(rest / 128)) length++;
  return length;
};

/** Writes `value` as a varint at `at`; returns the offset after it. */
export function writeVarint(buf: Buffer, at: number, value: number): number {
  let pos = at;
  let rest = value;
  while (rest > 0x7f) {
    buf[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = rest;
  return pos;
}

/** A length-delimited field's size for fields 1-15 (one tag byte): tag + length varint + body. */
export const delimitedLength = (bodyLength: number) => 1 + varintLength(bodyLength) + bodyLength;
