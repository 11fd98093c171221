/**
 * Newline-delimited JSON log lines. Each line is parsed once, for the few
 * attributes resolution reads; the output is the record's own text with the
 * ownership keys inserted before each object's closing brace, encoded in one
 * call — no re-serialization (a line whose producer set `ownership.*` keys is
 * the exception: it is re-serialized with them replaced). A line that is not
 * a JSON object is kept as it came.
 *
 * The record is worked on as text, not bytes: slicing and joining strings is
 * far cheaper in V8 than many small buffer copies. That is exact only for
 * UTF-8 (which JSON text must be, RFC 8259 §8.1), so a record that is not
 * UTF-8 is not read as JSON lines.
 */
import { isUtf8 } from 'node:buffer';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { ownershipPrefix } from '#shared/ownership/ownership-context';
import { objectSuffix, stampObject } from '#shared/telemetry/json-records';

import { isJsonSpace } from '#shared/telemetry/json-whitespace';

/** True when the first line is a whole object (ends with `}`) and more than whitespace follows it. */
export function isMultiLineJson(buf: Buffer): boolean {
  let start = 0;
  while (start < buf.length && isJsonSpace(buf[start])) start++;
  const newline = buf.indexOf(0x0a, start);
  if (newline === -1) return false;
  let end = newline - 1;
  while (end >= start && isJsonSpace(buf[end])) end--;
  if (buf[end] !== 0x7d) return false;
  for (let i = newline + 1; i < buf.length; i++) if (!isJsonSpace(buf[i])) return true;
  return false;
}

/** A line holding a JSON object: where it is in the record's text, and what stamping it needs to know. */
interface ObjectLine {
  /** Index of the object's opening brace. */
  start: number;
  /** Index of the object's closing brace. */
  close: number;
  /** No keys at all: no comma before the added ones. */
  empty: boolean;
  /** The producer set `ownership.*` keys: they are replaced, which takes a re-serialization. */
  producerOwnership: boolean;
}

export interface JsonLines {
  sources: SourceAttributes[];
  /** Lines with content that is not a JSON object: copied as they came. */
  otherLines: number;
  encode(ownership: Record<string, string>[]): Buffer;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * One pass over a parsed line's keys: what stamping it needs to know, and its
 * attributes — its top-level string, number and string-list fields over those
 * of a nested `resource` (only those resolution reads, when `only` is given).
 */
function readLine(object: Record<string, unknown>, only: ReadonlySet<string> | undefined) {
  const attributes: SourceAttributes = {};
  const resource = asObject(object.resource);
  if (resource) for (const key in resource) if (!only || only.has(key)) take(attributes, key, resource[key]);
  let empty = true;
  let producerOwnership = false;
  for (const key in object) {
    empty = false;
    if (key.startsWith(ownershipPrefix)) producerOwnership = true;
    if (!only || only.has(key)) take(attributes, key, object[key]);
  }
  return { attributes, empty, producerOwnership };
}

function take(into: SourceAttributes, key: string, value: unknown) {
  if (typeof value === 'string') into[key] = value;
  else if (typeof value === 'number' || typeof value === 'boolean') into[key] = String(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) into[key] = value as string[];
}

/** Lines of one producer mostly carry the same attributes: equal ones share an object (one key, one resolve). */
function sameAttributes(a: SourceAttributes | undefined, b: SourceAttributes): a is SourceAttributes {
  if (!a) return false;
  let count = 0;
  for (const key in b) {
    if (!sameValue(a[key], b[key] as string | string[])) return false;
    count++;
  }
  for (const _ in a) count--;
  return count === 0;
}

const sameValue = (x: string | string[] | undefined, y: string | string[]) =>
  x === y || (Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => v === y[i]));

/**
 * Undefined when the record is not UTF-8 or no line is a JSON object.
 * `whole`: the record already parsed as one document (one line, or one
 * object spread over several), so it is not parsed twice. `attributes`: the only ones worth reading.
 */
export function readJsonLines(
  buf: Buffer,
  whole?: { value: unknown },
  attributes?: ReadonlySet<string>,
): JsonLines | undefined {
  if (!isUtf8(buf)) return undefined;
  const text = buf.toString('utf8');
  const lines: ObjectLine[] = [];
  const sources: SourceAttributes[] = [];
  const add = (start: number, end: number, object: Record<string, unknown>) => {
    let close = end - 1;
    while (text.charCodeAt(close) !== 0x7d) close--; // a parsed object ends with `}` and whitespace
    const { attributes: read, empty, producerOwnership } = readLine(object, attributes);
    lines.push({ start, close, empty, producerOwnership });
    const previous = sources.at(-1);
    sources.push(sameAttributes(previous, read) ? previous : read);
  };
  let otherLines = 0;
  if (whole) {
    // One document, perhaps spread over several lines.
    const object = asObject(whole.value);
    if (object) add(text.indexOf('{'), text.length, object);
  } else otherLines = readEachLine(text, add);
  if (sources.length === 0) return undefined;
  return { sources, otherLines, encode: (ownership) => stampLines(text, lines, ownership) };
}

/** Hands `add` each line of `text` that is a JSON object; returns how many other lines are not blank. */
function readEachLine(
  text: string,
  add: (start: number, end: number, object: Record<string, unknown>) => void,
) {
  let otherLines = 0;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    let first = start;
    while (first < end && isJsonSpace(text.charCodeAt(first))) first++;
    const object = text.charCodeAt(first) === 0x7b /* { */ ? parseObject(text.slice(first, end)) : undefined;
    if (object) add(first, end, object);
    else if (first < end) otherLines++;
    start = end + 1;
  }
  return otherLines;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/** The record's text with `ownership[i]` inserted into the `i`th object line, every other byte as it came. */
function stampLines(text: string, lines: ObjectLine[], ownership: Record<string, string>[]): Buffer {
  let out = '';
  let copied = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as ObjectLine;
    const own = ownership[i] ?? {};
    if (line.producerOwnership) {
      const object = JSON.parse(text.slice(line.start, line.close + 1)) as Record<string, unknown>;
      out += text.slice(copied, line.start) + JSON.stringify(stampObject(object, own));
      copied = line.close + 1;
      continue;
    }
    const suffix = objectSuffix(own);
    out += text.slice(copied, line.close) + (line.empty ? suffix.firstText : suffix.afterText);
    copied = line.close;
  }
  return Buffer.from(out + text.slice(copied));
}
