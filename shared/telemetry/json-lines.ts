/**
 * Newline-delimited JSON log lines, read and written as bytes: each line is
 * parsed for its attributes, and the output is the input's own bytes with the
 * ownership keys inserted before each object's closing brace — one
 * allocation per record, no re-serialization (a line whose producer set
 * `ownership.*` keys is the exception: it is re-serialized with them replaced).
 * A line that is not a JSON object is kept byte for byte.
 */
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import {
  type JsonObjectShape,
  logLineAttributes,
  shapeOf,
  stampObject,
  suffixBytes,
} from '#shared/telemetry/json-records';

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** True when the first line is a whole object (ends with `}`) and more than whitespace follows it. */
export function isMultiLineJson(buf: Buffer): boolean {
  let start = 0;
  while (start < buf.length && isSpace(buf[start])) start++;
  const newline = buf.indexOf(0x0a, start);
  if (newline === -1) return false;
  let end = newline - 1;
  while (end >= start && isSpace(buf[end])) end--;
  if (buf[end] !== 0x7d) return false;
  for (let i = newline + 1; i < buf.length; i++) if (!isSpace(buf[i])) return true;
  return false;
}

interface Line {
  start: number;
  end: number;
  /** Set for a JSON object line: where its closing brace is, and its shape. */
  close?: number;
  shape?: JsonObjectShape;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export interface JsonLines {
  sources: SourceAttributes[];
  encode(ownership: Record<string, string>[]): Buffer;
}

/**
 * Undefined when no line is a JSON object. `whole`: the record already parsed
 * as one document (a record of a single line), so it is not parsed twice.
 */
export function readJsonLines(
  buf: Buffer,
  whole?: { value: unknown },
  attributes?: ReadonlySet<string>,
): JsonLines | undefined {
  const lines: Line[] = [];
  const sources: SourceAttributes[] = [];
  for (let start = 0; ; ) {
    const newline = buf.indexOf(0x0a, start);
    const end = newline === -1 ? buf.length : newline;
    const line: Line = { start, end };
    let first = start;
    while (first < end && isSpace(buf[first])) first++;
    if (first < end) {
      const close = buf.lastIndexOf(0x7d, end - 1);
      let object: Record<string, unknown> | undefined;
      if (whole) object = asObject(whole.value);
      else {
        try {
          object = asObject(JSON.parse(buf.toString('utf8', start, end)));
        } catch {
          object = undefined;
        }
      }
      if (object && close >= start) {
        line.close = close;
        line.shape = shapeOf(object);
        sources.push(logLineAttributes(object, attributes));
      }
    }
    lines.push(line);
    if (newline === -1) break;
    start = newline + 1;
  }
  if (sources.length === 0) return undefined;

  return {
    sources,
    encode(ownership) {
      // Each line's bytes: as they came, spliced, or (producer-set ownership) re-serialized.
      // Segments are pairs: [from, to) of the input, or [-1 - i, 0] for extras[i].
      const segments: number[] = [];
      const extras: Buffer[] = [];
      let length = 0;
      let next = 0;
      const keep = (from: number, to: number) => {
        segments.push(from, to);
        length += to - from;
      };
      const add = (bytes: Buffer) => {
        segments.push(-1 - extras.length, 0);
        extras.push(bytes);
        length += bytes.length;
      };
      for (const [i, line] of lines.entries()) {
        if (i > 0) keep(line.start - 1, line.start); // the newline before it
        if (line.shape === undefined || line.close === undefined) {
          keep(line.start, line.end);
          continue;
        }
        const own = ownership[next++] ?? {};
        if (line.shape.producerOwnership) {
          const object = JSON.parse(buf.toString('utf8', line.start, line.end)) as Record<string, unknown>;
          add(Buffer.from(JSON.stringify(stampObject(object, own))));
          continue;
        }
        const suffix = suffixBytes(own);
        keep(line.start, line.close);
        add(line.shape.empty ? suffix.first : suffix.after);
        keep(line.close, line.end);
      }
      const out = Buffer.allocUnsafe(length);
      let pos = 0;
      for (let k = 0; k < segments.length; k += 2) {
        const from = segments[k] as number;
        pos +=
          from >= 0
            ? buf.copy(out, pos, from, segments[k + 1])
            : (extras[-1 - from] as Buffer).copy(out, pos);
      }
      return out;
    },
  };
}
