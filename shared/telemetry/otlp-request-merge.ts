/**
 * Merging OTLP export requests of one signal and encoding into fewer, bounded
 * requests, without changing what any of them says:
 * - protobuf: an `ExportXServiceRequest` is one repeated field (1, the
 *   resource entries), and concatenated protobuf messages parse as one message
 *   with the repeated fields appended, so the merge is the concatenation of
 *   requests whose top-level framing checks out (a truncated one would swallow
 *   its neighbour's bytes, so it goes alone);
 * - JSON: `{"resourceSpans":[A]}` and `{"resourceSpans":[B]}` become
 *   `{"resourceSpans":[A,B]}`, splicing the producers' own element bytes (no
 *   re-serialization: numbers, escapes and key order stay as written). A JSON
 *   request of any other shape goes alone.
 */
import { isJsonSpace, skipJsonSpace } from '#shared/telemetry/json-whitespace';
import type { Signal } from '#shared/telemetry/otlp-json';
import { ProtobufReader, wireType } from '#shared/telemetry/protobuf-reader';

export interface OtlpRequestPart {
  signal: Signal;
  protobuf: boolean;
  /** The request, uncompressed. */
  plain: Buffer;
}

export interface MergedOtlpRequest<T extends OtlpRequestPart> {
  signal: Signal;
  protobuf: boolean;
  /** The merged request, uncompressed; a part that cannot be merged is its own body. */
  body: Buffer;
  parts: T[];
}

const listKeys: Record<Signal, string> = {
  traces: 'resourceSpans',
  logs: 'resourceLogs',
  metrics: 'resourceMetrics',
};

/**
 * Groups parts by signal and encoding, in order, into requests of at most
 * `maxBytes` (uncompressed). A part larger than that, or one that cannot be
 * merged without changing its meaning, is a request of its own.
 */
export function mergeOtlpRequests<T extends OtlpRequestPart>(
  parts: readonly T[],
  maxBytes: number,
): MergedOtlpRequest<T>[] {
  const requests: MergedOtlpRequest<T>[] = [];
  const open = new Map<string, { parts: T[]; pieces: Buffer[]; bytes: number }>();
  const close = (key: string) => {
    const group = open.get(key);
    if (!group) return;
    open.delete(key);
    const { signal, protobuf } = group.parts[0] as T;
    const body =
      group.parts.length === 1
        ? (group.parts[0] as T).plain
        : protobuf
          ? Buffer.concat(group.pieces)
          : jsonRequest(signal, group.pieces);
    requests.push({ signal, protobuf, body, parts: group.parts });
  };
  for (const part of parts) {
    const piece = part.protobuf ? protobufPiece(part.plain) : jsonPiece(part.plain, listKeys[part.signal]);
    if (!piece || part.plain.length > maxBytes) {
      requests.push({ signal: part.signal, protobuf: part.protobuf, body: part.plain, parts: [part] });
      continue;
    }
    const key = `${part.signal}/${part.protobuf}`;
    const group = open.get(key);
    // JSON adds the envelope and a comma per piece; protobuf adds nothing.
    const overhead = part.protobuf ? 0 : listKeys[part.signal].length + 8;
    if (group && group.bytes + piece.length + overhead > maxBytes) close(key);
    const current = open.get(key) ?? { parts: [], pieces: [], bytes: overhead };
    open.set(key, current);
    current.parts.push(part);
    if (piece.length > 0) current.pieces.push(piece);
    current.bytes += piece.length + (part.protobuf ? 0 : 1);
  }
  for (const key of [...open.keys()]) close(key);
  return requests;
}

/** The request itself when its top level is only well-framed field-1 entries; undefined otherwise. */
function protobufPiece(buf: Buffer): Buffer | undefined {
  const reader = new ProtobufReader(buf);
  try {
    while (!reader.done) {
      const field = reader.readField();
      if (field.number !== 1 || field.wireType !== wireType.lengthDelimited) return undefined;
    }
  } catch {
    return undefined;
  }
  return buf;
}

/** Index one past the last non-space byte before `to`. */
function skipSpaceBack(buf: Buffer, to: number): number {
  let end = to;
  while (end > 0 && isJsonSpace(buf[end - 1])) end--;
  return end;
}

/**
 * The elements of a request that is exactly `{"<listKey>":[...]}`
 * (whitespace aside), without surrounding whitespace; undefined for any other
 * shape. The elements are checked to be a comma-separated run of JSON values,
 * so that nothing in them can close the array early.
 */
function jsonPiece(buf: Buffer, listKey: string): Buffer | undefined {
  const key = Buffer.from(`"${listKey}"`);
  let pos = skipJsonSpace(buf, 0);
  if (buf[pos] !== 0x7b) return undefined; // {
  pos = skipJsonSpace(buf, pos + 1);
  if (!buf.subarray(pos, pos + key.length).equals(key)) return undefined;
  pos = skipJsonSpace(buf, pos + key.length);
  if (buf[pos] !== 0x3a) return undefined; // :
  pos = skipJsonSpace(buf, pos + 1);
  if (buf[pos] !== 0x5b) return undefined; // [
  let end = skipSpaceBack(buf, buf.length);
  if (buf[end - 1] !== 0x7d) return undefined; // }
  end = skipSpaceBack(buf, end - 1);
  if (buf[end - 1] !== 0x5d || end - 1 <= pos) return undefined; // ]
  const inner = buf.subarray(skipJsonSpace(buf, pos + 1), skipSpaceBack(buf, end - 1));
  try {
    JSON.parse(`[${inner.toString('utf8')}]`);
  } catch {
    return undefined;
  }
  return inner;
}

function jsonRequest(signal: Signal, pieces: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`{"${listKeys[signal]}":[`)];
  pieces.forEach((piece, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(piece);
  });
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}
