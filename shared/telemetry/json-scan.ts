/**
 * Finds where in an OTLP/JSON request each resource's `attributes` array ends,
 * without building anything: a structural scan that skips strings and nested
 * values. Lets the enricher insert the stamped attributes into the producer's
 * own bytes instead of re-serializing the whole request.
 */

import { isJsonSpace } from '#shared/telemetry/json-whitespace';

const [quote, backslash, colon, comma] = [0x22, 0x5c, 0x3a, 0x2c];
const [openBrace, closeBrace, openBracket, closeBracket] = [0x7b, 0x7d, 0x5b, 0x5d];

/**
 * What each byte is to the scan outside strings. `other`: the rest of what
 * JSON allows there (whitespace, `,` and `:`, numbers, `true`, `false`,
 * `null`). 0: anything else. A skipped value holding such a byte
 * (a comment, a single quote, a bare word) is not JSON, and lenient parsers
 * (comments, JSON5) would read structure there that the scan skipped, such
 * as a second `resource`: such a record is not spliced. One table lookup per
 * byte keeps the check as cheap as not checking.
 */
const [other, quoted, opens, closes] = [1, 2, 3, 4];
const byteClass = new Uint8Array(256);
for (const c of ' \t\n\r,:0123456789+-.eEtruefalsn') byteClass[c.charCodeAt(0)] = other;
byteClass[quote] = quoted;
byteClass[openBrace] = byteClass[openBracket] = opens;
byteClass[closeBrace] = byteClass[closeBracket] = closes;

/**
 * Index just past the closing quote of the string whose content starts at
 * `pos`. Strings are most of the bytes a scan skips: this loop is the scan's
 * hot path, kept on locals.
 */
function stringEnd(buf: Buffer, pos: number): number {
  for (;;) {
    const c = buf[pos++];
    if (c === quote) return pos;
    if (c === backslash) pos++;
    else if (c === undefined) throw new SyntaxError('unterminated string');
  }
}

/** Index just past the number, `true`, `false` or `null` that starts at `pos`. */
function scalarEnd(buf: Buffer, pos: number): number {
  const start = pos;
  for (;;) {
    const b = buf[pos];
    if (b === undefined || b === comma || b === closeBrace || b === closeBracket || isJsonSpace(b)) break;
    if (byteClass[b] !== other) throw new SyntaxError(`not JSON at ${pos}`);
    pos++;
  }
  if (pos === start) throw new SyntaxError(`expected a value at ${start}`);
  return pos;
}

/** Index just past the object or array that opens at `pos`: a walk by byte class, not a parse. */
function nestedEnd(buf: Buffer, pos: number): number {
  let depth = 0;
  const length = buf.length;
  while (pos < length) {
    const kind = byteClass[buf[pos++] as number];
    if (kind === other) continue;
    if (kind === quoted) pos = stringEnd(buf, pos);
    else if (kind === opens) depth++;
    else if (kind === closes) {
      if (--depth === 0) return pos;
    } else throw new SyntaxError(`not JSON at ${pos - 1}`);
  }
  throw new SyntaxError('unterminated value');
}

/**
 * Whether `length` bytes of `a` at `aStart` equal those of `b` at `bStart`.
 * Keys are short: a loop here costs less than `Buffer.compare`'s call into C++.
 */
function sameBytes(a: Buffer, aStart: number, b: Buffer, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/**
 * A structural walk over UTF-8 JSON bytes. Works on bytes, not a decoded
 * string: UTF-8 continuation bytes are all ≥ 0x80, so they never look like
 * JSON punctuation, and nothing has to be decoded but the parts that are read.
 */
class Scanner {
  pos = 0;
  /** The last string `stringRange` read: its content's bounds, and whether bytes alone do not say what it reads as. */
  private rangeStart = 0;
  private rangeEnd = 0;
  private rangeDecode = false;
  constructor(readonly buf: Buffer) {}

  space() {
    while (isJsonSpace(this.buf[this.pos])) this.pos++;
  }

  expect(byte: number) {
    this.space();
    if (this.buf[this.pos] !== byte)
      throw new SyntaxError(`expected ${String.fromCharCode(byte)} at ${this.pos}`);
    this.pos++;
  }

  /**
   * Reads the next string's content as a byte range (into `rangeStart`,
   * `rangeEnd`); `rangeDecode` when it holds an escape or a byte outside
   * ASCII, whose bytes alone do not say what a parser reads
   * (`"resourc\u0065"` is `resource`; two invalid bytes are both U+FFFD).
   */
  private stringRange() {
    this.expect(quote);
    const buf = this.buf;
    let pos = this.pos;
    const start = pos;
    let decode = false;
    for (;;) {
      const c = buf[pos++];
      if (c === quote) break;
      if (c === undefined) throw new SyntaxError('unterminated string');
      if (c === backslash) {
        decode = true;
        pos++;
      } else if (c >= 0x80) decode = true;
    }
    this.pos = pos;
    this.rangeStart = start;
    this.rangeEnd = pos - 1;
    this.rangeDecode = decode;
  }

  private text(start: number, end: number, decode: boolean): string {
    return decode
      ? (JSON.parse(this.buf.toString('utf8', start - 1, end + 1)) as string)
      : this.buf.toString('utf8', start, end);
  }

  /** Reads a string as a JSON parser sees it: a key written `"resourc\u0065"` is `resource` to every consumer, so it must be to the scan too. */
  string(): string {
    this.stringRange();
    return this.text(this.rangeStart, this.rangeEnd, this.rangeDecode);
  }

  /** Consumes `open`; true when `close` follows at once: the container is empty, and consumed. */
  private opensEmpty(open: number, close: number): boolean {
    this.expect(open);
    this.space();
    if (this.buf[this.pos] !== close) return false;
    this.pos++;
    return true;
  }

  /** After an element: consumes `,` (false: another follows) or `close` (true: the container ends). */
  private closes(close: number): boolean {
    this.space();
    const c = this.buf[this.pos++];
    if (c === close) return true;
    if (c !== comma) throw new SyntaxError(`expected , or ${String.fromCharCode(close)} at ${this.pos - 1}`);
    return false;
  }

  /** Key ranges of the object `objectRepeatsKey` is reading, reused: it runs once per attribute. */
  private readonly keyStarts: number[] = [];
  private readonly keyEnds: number[] = [];

  /**
   * Skips an object, telling whether a key repeats as a parser decodes keys.
   * Plain keys are compared as bytes (cheaper than decoding each), and only
   * keys of equal length: an attribute's `key` and `value` never are.
   */
  objectRepeatsKey(): boolean {
    if (this.opensEmpty(openBrace, closeBrace)) return false;
    const starts = this.keyStarts;
    const ends = this.keyEnds;
    let count = 0;
    let decode = false;
    for (;;) {
      this.stringRange();
      starts[count] = this.rangeStart;
      ends[count] = this.rangeEnd;
      count++;
      decode ||= this.rangeDecode;
      this.expect(colon);
      this.value();
      if (this.closes(closeBrace)) break;
    }
    if (decode) {
      const names = new Set<string>();
      for (let k = 0; k < count; k++) names.add(this.text(starts[k] as number, ends[k] as number, true));
      return names.size !== count;
    }
    for (let k = 1; k < count; k++) {
      const start = starts[k] as number;
      const end = ends[k] as number;
      for (let o = 0; o < k; o++) {
        const otherStart = starts[o] as number;
        const otherEnd = ends[o] as number;
        if (
          otherEnd - otherStart === end - start &&
          sameBytes(this.buf, otherStart, this.buf, start, end - start)
        )
          return true;
      }
    }
    return false;
  }

  /** Skips a string without decoding it. */
  skipString() {
    this.pos = stringEnd(this.buf, this.pos + 1);
  }

  /** Skips any value. */
  value() {
    this.space();
    const buf = this.buf;
    const pos = this.pos;
    const c = buf[pos];
    if (c === quote) this.pos = stringEnd(buf, pos + 1);
    else if (c === openBrace || c === openBracket) this.pos = nestedEnd(buf, pos);
    else this.pos = scalarEnd(buf, pos);
  }

  /** Calls `onKey` for each key of the object at the cursor; `onKey` consumes the value. */
  object(onKey: (key: string) => void) {
    if (this.opensEmpty(openBrace, closeBrace)) return;
    for (;;) {
      const key = this.string();
      this.expect(colon);
      onKey(key);
      if (this.closes(closeBrace)) return;
    }
  }

  /**
   * Skips the object at the cursor but for the values of keys that read as
   * `name` (as a parser decodes keys), which `onName` consumes. Plain keys
   * are compared as bytes, so the keys passed over are never decoded.
   */
  objectKey(name: Buffer, onName: () => void) {
    if (this.opensEmpty(openBrace, closeBrace)) return;
    for (;;) {
      this.stringRange();
      const { rangeStart: start, rangeEnd: end } = this;
      const matches = this.rangeDecode
        ? this.text(start, end, true) === name.toString()
        : end - start === name.length && sameBytes(name, 0, this.buf, start, name.length);
      this.expect(colon);
      if (matches) onName();
      else this.value();
      if (this.closes(closeBrace)) return;
    }
  }

  array(onElement: (index: number) => void) {
    if (this.opensEmpty(openBracket, closeBracket)) return;
    for (let i = 0; ; i++) {
      onElement(i);
      if (this.closes(closeBracket)) return;
    }
  }
}

export interface ScannedResource {
  /** The resource's attributes, parsed from their own slice of the text. */
  attributes: unknown;
  /** Index of the `]` closing the attributes array. */
  at: number;
  /** Whether the array has no element (no comma before an insertion). */
  empty: boolean;
}

export interface ScannedRequest {
  /** Which of the list keys the object holds, with each element's resource attributes. */
  listKey?: string;
  resources: ScannedResource[];
  /** False when some list element has no `resource.attributes` array. */
  complete: boolean;
  /** The values of the captured top-level keys, parsed. */
  captured: Record<string, unknown>;
  /** Every top-level key, as a JSON parser reads it. */
  keys: string[];
  /**
   * A key that decides where ownership goes (a list key, `resource`,
   * `attributes`, a captured key) appears twice in one object. Consumers'
   * parsers disagree on which one counts (most keep the last, some the
   * first), so such a request is not spliced but parsed and re-serialized.
   */
  duplicateKeys: boolean;
  /** Index of the object's closing brace. */
  close: number;
}

const resourceKey = Buffer.from('resource');
const attributesKey = Buffer.from('attributes');

/**
 * One pass over a JSON object: for a key of `listKeys` (OTLP's
 * `resourceSpans`, ...), each element's resource attributes and where their
 * array ends; the values of `capture` keys; every top-level key. Parses
 * nothing else. Undefined when the bytes are not a single JSON object.
 */
export function scanJsonRequest(
  buf: Buffer,
  listKeys: readonly string[],
  capture: readonly string[] = [],
): ScannedRequest | undefined {
  const scanner = new Scanner(buf);
  const result: ScannedRequest = {
    resources: [],
    complete: true,
    captured: {},
    keys: [],
    close: -1,
    duplicateKeys: false,
  };
  /** The top-level keys that decide where ownership goes, seen so far: a second one is flagged. */
  const structural: string[] = [];
  const once = (key: string) => {
    if (structural.includes(key)) result.duplicateKeys = true;
    else structural.push(key);
  };
  let count = 0;
  const resources: (ScannedResource | undefined)[] = [];
  try {
    scanner.object((key) => {
      result.keys.push(key);
      const listKey = listKeys.includes(key);
      // Two list keys, even different ones, are one too many: only one is stamped.
      if (listKey) once('\u0000list');
      else if (capture.includes(key) || key.startsWith('ownership.')) once(key);
      if (capture.includes(key)) {
        scanner.space();
        const start = scanner.pos;
        scanner.value();
        result.captured[key] = JSON.parse(buf.toString('utf8', start, scanner.pos));
        return;
      }
      if (!listKey) return scanner.value();
      result.listKey = key;
      resources.length = 0;
      scanner.array((i) => {
        count = i + 1;
        scanner.space();
        if (buf[scanner.pos] !== openBrace) return scanner.value();
        let seenResource = false;
        scanner.objectKey(resourceKey, () => {
          if (seenResource) result.duplicateKeys = true;
          seenResource = true;
          scanner.space();
          if (buf[scanner.pos] !== openBrace) return scanner.value();
          let seenAttributes = false;
          scanner.objectKey(attributesKey, () => {
            if (seenAttributes) result.duplicateKeys = true;
            seenAttributes = true;
            scanner.space();
            if (buf[scanner.pos] !== openBracket) return scanner.value();
            const open = scanner.pos;
            // A `KeyValue` repeating `key` is `ownership.*` to a first-wins decoder and not to JSON.parse.
            scanner.array(() => {
              scanner.space();
              if (buf[scanner.pos] !== openBrace) return scanner.value();
              if (scanner.objectRepeatsKey()) result.duplicateKeys = true;
            });
            const at = scanner.pos - 1;
            let first = open + 1;
            while (isJsonSpace(buf[first])) first++;
            resources[i] = {
              attributes: JSON.parse(buf.toString('utf8', open, at + 1)),
              at,
              empty: first === at,
            };
          });
        });
      });
    });
    result.close = scanner.pos - 1;
    scanner.space();
    if (scanner.pos !== buf.length) return undefined;
  } catch {
    return undefined;
  }
  for (let i = 0; i < count; i++) if (!resources[i]) result.complete = false;
  result.resources = resources.slice(0, count) as ScannedResource[];
  return result;
}
