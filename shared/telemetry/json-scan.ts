/**
 * Finds where in an OTLP/JSON text each resource's `attributes` array ends,
 * without building anything: a structural scan that skips strings and nested
 * values. Lets the enricher insert the stamped attributes into the producer's
 * own bytes instead of re-serializing the whole request.
 */

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  space() {
    while (isSpace(this.text.charCodeAt(this.pos))) this.pos++;
  }

  expect(char: string) {
    this.space();
    if (this.text[this.pos] !== char) throw new SyntaxError(`expected ${char} at ${this.pos}`);
    this.pos++;
  }

  /** Reads a string, returning its raw contents (escapes left as written). */
  string(): string {
    this.expect('"');
    const start = this.pos;
    for (;;) {
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x22) return this.text.slice(start, this.pos - 1);
      if (c === 0x5c) this.pos++;
      else if (Number.isNaN(c)) throw new SyntaxError('unterminated string');
    }
  }

  /** Skips any value. */
  value() {
    this.space();
    const c = this.text[this.pos];
    if (c === '"') {
      this.string();
      return;
    }
    if (c !== '{' && c !== '[') {
      const start = this.pos;
      while (this.pos < this.text.length && !',}] \n\r\t'.includes(this.text[this.pos] as string)) this.pos++;
      if (this.pos === start) throw new SyntaxError(`expected a value at ${start}`);
      return;
    }
    let depth = 0;
    for (;;) {
      const ch = this.text.charCodeAt(this.pos);
      if (ch === 0x22) {
        this.string();
        continue;
      }
      this.pos++;
      if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        if (--depth === 0) return;
      } else if (Number.isNaN(ch)) throw new SyntaxError('unterminated value');
    }
  }

  /** Calls `onKey` for each key of the object at the cursor; `onKey` consumes the value. */
  object(onKey: (key: string) => void) {
    this.expect('{');
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      const key = this.string();
      this.expect(':');
      onKey(key);
      this.space();
      const c = this.text[this.pos++];
      if (c === '}') return;
      if (c !== ',') throw new SyntaxError(`expected , or } at ${this.pos - 1}`);
    }
  }

  array(onElement: (index: number) => void) {
    this.expect('[');
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      onElement(i);
      this.space();
      const c = this.text[this.pos++];
      if (c === ']') return;
      if (c !== ',') throw new SyntaxError(`expected , or ] at ${this.pos - 1}`);
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

/**
 * Scans an OTLP/JSON request: which of `listKeys` it holds and, for each of
 * its elements, the resource attributes and where their array ends. Parses
 * nothing but the attribute arrays. Undefined when the text is not such a
 * request or some element has no `resource.attributes` array (the caller
 * then parses the whole text).
 */
export function scanOtlpJson(
  text: string,
  listKeys: readonly string[],
): { listKey: string; resources: ScannedResource[] } | undefined {
  const scanner = new Scanner(text);
  let listKey: string | undefined;
  let resources: (ScannedResource | undefined)[] = [];
  let count = 0;
  try {
    scanner.object((key) => {
      if (!listKeys.includes(key)) return scanner.value();
      listKey = key;
      resources = [];
      scanner.array((i) => {
        count = i + 1;
        scanner.space();
        if (text[scanner.pos] !== '{') return scanner.value();
        scanner.object((envelopeKey) => {
          if (envelopeKey !== 'resource') return scanner.value();
          scanner.space();
          if (text[scanner.pos] !== '{') return scanner.value();
          scanner.object((resourceKey) => {
            if (resourceKey !== 'attributes') return scanner.value();
            scanner.space();
            if (text[scanner.pos] !== '[') return scanner.value();
            const open = scanner.pos;
            scanner.value();
            const at = scanner.pos - 1;
            const slice = text.slice(open, at + 1);
            resources[i] = { attributes: JSON.parse(slice), at, empty: slice.slice(1, -1).trim() === '' };
          });
        });
      });
    });
    scanner.space();
    if (scanner.pos !== text.length) return undefined;
  } catch {
    return undefined;
  }
  if (!listKey) return undefined;
  for (let i = 0; i < count; i++) if (!resources[i]) return undefined;
  return { listKey, resources: resources.slice(0, count) as ScannedResource[] };
}
