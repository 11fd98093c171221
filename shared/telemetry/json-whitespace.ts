/**
 * JSON's whitespace (RFC 8259 §2): space, tab, line feed, carriage return,
 * and nothing else (not a form feed, not U+00A0). Takes a byte or a UTF-16
 * code unit alike: the four are ASCII.
 */
export const isJsonSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Index of the first byte at or after `from` that is not JSON whitespace; the length when none is. */
export function skipJsonSpace(buf: Buffer, from: number): number {
  let pos = from;
  while (isJsonSpace(buf[pos])) pos++;
  return pos;
}
