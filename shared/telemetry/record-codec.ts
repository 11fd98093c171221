/**
 * One Kinesis record in, its telemetry sources out, and back: detects the
 * encoding per record (KPL aggregation, gzip/zlib, OTLP JSON, OTLP protobuf,
 * CloudWatch Logs, JSON lines), exposes each source's attributes for
 * resolution, and re-encodes with ownership stamped, keeping the input's
 * encoding and compression. Anything it cannot decode it says so, and the
 * caller passes the record through unchanged.
 */
import { isUtf8 } from 'node:buffer';
import { deaggregateSync, RecordAggregator } from 'aws-kinesis-agg';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import {
  type Compression,
  compress,
  compressionOf,
  type DecompressionBudget,
  decompressWithin,
} from '#shared/telemetry/compression';
import { isMultiLineJson, readJsonLines } from '#shared/telemetry/json-lines';
import {
  cloudWatchAttributes,
  cloudWatchKeys,
  isCloudWatchLogsEnvelope,
  spliceObject,
  stampObject,
} from '#shared/telemetry/json-records';
import { type ScannedRequest, scanJsonRequest } from '#shared/telemetry/json-scan';
import { skipJsonSpace } from '#shared/telemetry/json-whitespace';
import {
  attributesOf,
  otlpFromScan,
  otlpJsonSignal,
  otlpListKeys,
  resourceAttributesOf,
  resourcesOf,
  type Signal,
  stringifyStamped,
} from '#shared/telemetry/otlp-json';
import { readOtlpProtobuf } from '#shared/telemetry/otlp-protobuf';

export const inputFormats = [
  'auto',
  'otlp-json',
  'otlp-proto-traces',
  'otlp-proto-logs',
  'otlp-proto-metrics',
  'cloudwatch-logs',
  'json-lines',
] as const;
export type InputFormat = (typeof inputFormats)[number];

export type RecordKind = 'otlp-json' | 'otlp-protobuf' | 'cloudwatch-logs' | 'json-lines' | 'kpl';

export interface DecodedRecord {
  kind: RecordKind;
  signal?: Signal;
  compression: Compression;
  sources: SourceAttributes[];
  /** Re-encodes with `ownership[i]` stamped on `sources[i]`; KPL may yield more than one record. */
  encode(ownership: Record<string, string>[]): Buffer[];
  /**
   * Set when part of the record is copied as it came, unread (a KPL user
   * record that does not decode, a JSON line that is not an object): the
   * record is stamped, but Portolan cannot vouch for every byte of it.
   */
  unvouched?: string;
}

/** Why a record is not stamped: each is counted under its own name. */
export type PassThroughReason =
  | 'empty'
  | 'control-message'
  | 'undecodable'
  | 'decompression-cap'
  | 'decompression-budget'
  | 'oversize'
  | 'decoder-failure'
  | 'encoder-failure'
  | 'unvouched-part';

export type Decoding = { decoded: DecodedRecord } | { passThrough: PassThroughReason; reason: string };

export interface DecodeOptions {
  /** The only attributes worth reading from JSON log lines (what resolution looks at); all when absent. */
  attributes?: ReadonlySet<string>;
  /** Decompressed bytes this record may still take (the invocation's budget); unbounded when absent. */
  budget?: DecompressionBudget;
}

const kplMagic = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);

export function decodeRecord(
  data: Buffer,
  format: InputFormat = 'auto',
  partitionKey = '',
  options: DecodeOptions = {},
): Decoding {
  if (data.length === 0) return { passThrough: 'empty', reason: 'empty record' };
  if (isKpl(data)) return decodeKpl(data, format, partitionKey, options);
  return decodeUnaggregated(data, format, options);
}

const isKpl = (data: Buffer) => kplMagic.every((byte, i) => data[i] === byte);

function decodeUnaggregated(data: Buffer, format: InputFormat, options: DecodeOptions): Decoding {
  const compression = compressionOf(data);
  const inflated = decompressWithin(data, compression, options.budget);
  if ('refused' in inflated) return { passThrough: inflated.refused, reason: inflated.reason };
  const decoded = decodeDecompressed(inflated.plain, format, compression, options.attributes);
  if ('passThrough' in decoded) return decoded;
  return { decoded };
}

type PassThrough = Exclude<Decoding, { decoded: DecodedRecord }>;

/** A record's bytes after decompression, as every detector sees them. */
interface DecompressedRecord {
  bytes: Buffer;
  format: InputFormat;
  compression: Compression;
  attributes: ReadonlySet<string> | undefined;
  /** Starts with `{` (after whitespace) and is not configured as protobuf: several JSON lines or one document. */
  json: 'lines' | 'document' | undefined;
  /**
   * A JSON document's structural scan (OTLP's resource attributes, a
   * CloudWatch envelope's few top-level fields); undefined when the record is
   * not a JSON document or not one JSON object.
   */
  scanned: ScannedRequest | undefined;
  /** The whole record through `JSON.parse`, parsed at most once; undefined when it does not parse. */
  parsed(): unknown;
}

/** Decodes the record, or passes it through with a reason; undefined leaves it to the next detector. */
type Detector = (record: DecompressedRecord) => DecodedRecord | PassThrough | undefined;

const acceptsJsonLines = (format: InputFormat) => format === 'auto' || format === 'json-lines';
const isProtobufFormat = (format: InputFormat) => format.startsWith('otlp-proto-');

/** Several one-line objects: JSON lines, without first failing to parse them as one document. */
const severalJsonLines: Detector = (record) =>
  record.json === 'lines' && acceptsJsonLines(record.format)
    ? decodeJsonLines(record.bytes, record.compression, record.attributes)
    : undefined;

const acceptsOtlpJson = (format: InputFormat) => format === 'auto' || format === 'otlp-json';
const acceptsCloudWatch = (format: InputFormat) => format === 'auto' || format === 'cloudwatch-logs';

/**
 * An OTLP/JSON request. Scanned, not parsed, where the scan settles it (the
 * resources' attributes are all that is read); parsed where it does not
 * (repeated keys, the producer's own `ownership.*`, odd shapes). A document
 * the scan read whole without a resource list is not OTLP/JSON, unparsed.
 */
const otlpJsonDocument: Detector = (record) => {
  if (record.json !== 'document') return undefined;
  const { scanned } = record;
  if (scanned && !scanned.listKey) return undefined;
  const request =
    (scanned && acceptsOtlpJson(record.format) && otlpFromScan(record.bytes, scanned)) ||
    otlpFromParse(record.parsed(), record.format);
  if (!request || 'passThrough' in request) return request;
  const { compression } = record;
  return {
    kind: 'otlp-json',
    signal: request.signal,
    compression,
    sources: request.sources,
    encode(ownership) {
      return compressed(request.encode(ownership), compression);
    },
  };
};

/** A parsed OTLP/JSON request, re-serialized to stamp it; undefined when the document is not one. */
function otlpFromParse(parsed: unknown, format: InputFormat) {
  const signal = otlpJsonSignal(parsed);
  if (signal === 'ambiguous')
    return { passThrough: 'undecodable', reason: 'OTLP/JSON request with more than one signal' } as const;
  if (!signal || !acceptsOtlpJson(format)) return undefined;
  const request = parsed as Record<string, unknown>;
  return {
    signal,
    sources: resourcesOf(request, signal).map((r) => attributesOf(resourceAttributesOf(r))),
    encode: (ownership: Record<string, string>[]) =>
      Buffer.from(stringifyStamped(request, signal, ownership)),
  };
}

/**
 * A CloudWatch Logs envelope. Scanned, not parsed, where the scan settles it
 * (a few top-level fields are all that is read); parsed where the producer
 * set `ownership.*` keys (replaced) or repeated a key (collapsed to one).
 */
const cloudWatchDocument: Detector = (record) => {
  if (record.json !== 'document' || !acceptsCloudWatch(record.format)) return undefined;
  const { scanned, bytes, compression } = record;
  const spliced = scanned && !scanned.listKey && scanSettlesCloudWatch(scanned) ? scanned : undefined;
  const envelope = spliced ? spliced.captured : record.parsed();
  if (!spliced && !isCloudWatchLogsEnvelope(envelope)) return undefined;
  const fields = envelope as Record<string, unknown>;
  if (fields.messageType === 'CONTROL_MESSAGE')
    return { passThrough: 'control-message', reason: 'CloudWatch Logs control message' };
  return {
    kind: 'cloudwatch-logs',
    compression,
    sources: [cloudWatchAttributes(fields)],
    encode(ownership) {
      const own = ownership[0] ?? {};
      // Spliced into the producer's own bytes where the scan settled it, else re-serialized.
      const stamped = spliced
        ? spliceObject(bytes, spliced.close, false, own)
        : Buffer.from(JSON.stringify(stampObject(fields, own)));
      return compressed(stamped, compression);
    },
  };
};

/**
 * Whether the scan alone reads the envelope: not when the producer set
 * `ownership.*` keys (replaced) or repeated a key (collapsed to one), which takes a parse.
 */
function scanSettlesCloudWatch(scanned: ScannedRequest): boolean {
  return (
    typeof scanned.captured.messageType === 'string' &&
    scanned.keys.includes('logEvents') &&
    !scanned.duplicateKeys &&
    !scanned.keys.some((k) => k.startsWith('ownership.'))
  );
}

const otlpProtobuf: Detector = (record) => {
  const { bytes, format, compression } = record;
  if (bytes[0] !== 0x0a || !(format === 'auto' || isProtobufFormat(format))) return undefined;
  const request = readOtlpProtobuf(bytes);
  if (!request) return undefined;
  const configured = isProtobufFormat(format) ? (format.slice('otlp-proto-'.length) as Signal) : undefined;
  const signal = configured ?? request.signal;
  return {
    kind: 'otlp-protobuf',
    ...(signal ? { signal } : {}),
    compression,
    sources: request.sources,
    encode(ownership) {
      return compressed(request.encode(ownership), compression);
    },
  };
};

/** A single JSON object that is neither OTLP nor CloudWatch: one JSON line (reusing the parse). */
const singleJsonLine: Detector = (record) => {
  if (record.json !== 'document' || !acceptsJsonLines(record.format)) return undefined;
  const parsed = record.parsed();
  return decodeJsonLines(
    record.bytes,
    record.compression,
    record.attributes,
    parsed === undefined ? undefined : { value: parsed },
  );
};

/**
 * The detectors in the order they are tried; the first to claim the record
 * decodes it. The one ambiguity: a protobuf request starts with field 1's tag,
 * 0x0a, which is also a newline, and may be followed by `{` (a 123-byte first
 * `Resource*`). So a record starting `{` after whitespace is taken as a JSON
 * document only when it is OTLP/JSON or a CloudWatch envelope, protobuf is
 * tried next, and a lone JSON line comes last.
 */
const detectors: readonly Detector[] = [
  severalJsonLines,
  otlpJsonDocument,
  cloudWatchDocument,
  otlpProtobuf,
  singleJsonLine,
];

/** A record already decompressed (or never compressed): the first detector that claims it decodes it. */
function decodeDecompressed(
  bytes: Buffer,
  format: InputFormat,
  compression: Compression,
  attributes: ReadonlySet<string> | undefined,
): DecodedRecord | PassThrough {
  const json = jsonShape(bytes, format);
  const record: DecompressedRecord = {
    bytes,
    format,
    compression,
    attributes,
    json,
    // Every JSON document is scanned: the scan is what both its decoders read first.
    scanned: json === 'document' ? scanJsonRequest(bytes, otlpListKeys, cloudWatchKeys) : undefined,
    parsed: () => {
      const parsed = parseOrUndefined(bytes);
      record.parsed = () => parsed;
      return parsed;
    },
  };
  for (const detect of detectors) {
    const detected = detect(record);
    if (detected) return detected;
  }
  return {
    passThrough: 'undecodable',
    reason: `not ${format === 'auto' ? 'a recognised telemetry encoding' : format}`,
  };
}

function jsonShape(bytes: Buffer, format: InputFormat): DecompressedRecord['json'] {
  if (bytes[skipJsonSpace(bytes, 0)] !== 0x7b /* { */ || isProtobufFormat(format)) return undefined;
  return isMultiLineJson(bytes) ? 'lines' : 'document';
}

function parseOrUndefined(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Re-encoded bytes, compressed as the input was: one record out. */
function compressed(bytes: Buffer, compression: Compression): Buffer[] {
  return [compress(bytes, compression)];
}

function decodeJsonLines(
  plain: Buffer,
  compression: Compression,
  attributes: ReadonlySet<string> | undefined,
  whole?: { value: unknown },
): DecodedRecord | PassThrough {
  const lines = readJsonLines(plain, whole, attributes);
  if (!lines)
    return {
      passThrough: 'undecodable',
      reason: isUtf8(plain) ? 'no JSON object in the record' : 'JSON lines that are not UTF-8',
    };
  const decoded: DecodedRecord = {
    kind: 'json-lines',
    compression,
    sources: lines.sources,
    encode(ownership) {
      return compressed(lines.encode(ownership), compression);
    },
  };
  if (lines.otherLines > 0)
    decoded.unvouched = `${lines.otherLines} lines that are not JSON objects, copied as they came`;
  return decoded;
}

/**
 * A KPL aggregate: each user record decoded on its own. Aggregates are never
 * nested by the KPL; one that is gets no further (each level would cost a
 * stack frame, and a producer can nest thousands).
 */
function decodeKpl(
  data: Buffer,
  format: InputFormat,
  partitionKey: string,
  options: DecodeOptions,
): Decoding {
  let userRecords: { partitionKey: string; explicitPartitionKey?: string; data: string }[] = [];
  let failure: Error | undefined;
  try {
    deaggregateSync(
      {
        data: data.toString('base64'),
        partitionKey,
        sequenceNumber: '0',
        kinesisSchemaVersion: '1.0',
        approximateArrivalTimestamp: 0,
      },
      true,
      (error, records) => {
        if (error) failure = error;
        else userRecords = records ?? [];
      },
    );
  } catch (error) {
    failure = error as Error;
  }
  if (failure)
    return { passThrough: 'undecodable', reason: `KPL aggregate does not decode: ${failure.message}` };
  let unvouched: string | undefined;
  const parts: { user: (typeof userRecords)[number]; bytes: Buffer; decoded: DecodedRecord | undefined }[] =
    [];
  for (const user of userRecords) {
    const bytes = Buffer.from(user.data, 'base64');
    if (isKpl(bytes))
      return { passThrough: 'undecodable', reason: 'KPL aggregate nested in a KPL aggregate' };
    const decoding = bytes.length === 0 ? undefined : decodeUnaggregated(bytes, format, options);
    if (decoding && 'passThrough' in decoding)
      unvouched ??= `a user record passed through: ${decoding.reason}`;
    else if (decoding?.decoded.unvouched) unvouched ??= decoding.decoded.unvouched;
    parts.push({ user, bytes, decoded: decoding && 'decoded' in decoding ? decoding.decoded : undefined });
  }
  return {
    decoded: {
      kind: 'kpl',
      compression: 'none',
      sources: parts.flatMap((p) => p.decoded?.sources ?? []),
      ...(unvouched ? { unvouched } : {}),
      encode(ownership) {
        let next = 0;
        const aggregator = new RecordAggregator();
        const out: Buffer[] = [];
        for (const part of parts) {
          const sourceCount = part.decoded?.sources.length ?? 0;
          const own = ownership.slice(next, next + sourceCount);
          next += sourceCount;
          for (const bytes of part.decoded ? part.decoded.encode(own) : [part.bytes]) {
            const record = {
              partitionKey: part.user.partitionKey,
              ...(part.user.explicitPartitionKey ? { explicitHashKey: part.user.explicitPartitionKey } : {}),
              data: bytes,
            };
            if (!aggregator.checkIfUserRecordFits(record)) out.push(aggregator.build().data);
            aggregator.addUserRecord(record);
          }
        }
        if (aggregator.length() > 0) out.push(aggregator.build().data);
        return out;
      },
    },
  };
}
