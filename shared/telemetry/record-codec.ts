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
import { type Compression, compress, compressionOf, decompress } from '#shared/telemetry/compression';
import { isMultiLineJson, readJsonLines } from '#shared/telemetry/json-lines';
import {
  cloudWatchAttributes,
  cloudWatchKeys,
  isCloudWatchLogsEnvelope,
  spliceObject,
  stampObject,
} from '#shared/telemetry/json-records';
import { type ScannedRequest, scanJsonRequest } from '#shared/telemetry/json-scan';
import {
  attributesOf,
  otlpFromScan,
  otlpJsonSignal,
  otlpListKeys,
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
}

export type Decoding =
  | { decoded: DecodedRecord }
  | { passThrough: 'undecodable' | 'control-message' | 'empty'; reason: string };

const kplMagic = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);

/**
 * `attributes`: the only attributes worth reading from JSON log lines (what
 * resolution looks at); all of them when absent.
 */
export function decodeRecord(
  data: Buffer,
  format: InputFormat = 'auto',
  partitionKey = '',
  attributes?: ReadonlySet<string>,
): Decoding {
  if (data.length === 0) return { passThrough: 'empty', reason: 'empty record' };
  if (kplMagic.every((byte, i) => data[i] === byte)) return decodeKpl(data, format, partitionKey, attributes);
  const compression = compressionOf(data);
  let plain: Buffer;
  try {
    plain = decompress(data, compression);
  } catch (error) {
    return {
      passThrough: 'undecodable',
      reason: `${compression} data does not decompress: ${(error as Error).message}`,
    };
  }
  const decoded = decodePlain(plain, format, compression, attributes);
  if ('passThrough' in decoded) return decoded;
  return { decoded };
}

function decodePlain(
  plain: Buffer,
  format: InputFormat,
  compression: Compression,
  attributes: ReadonlySet<string> | undefined,
): DecodedRecord | Exclude<Decoding, { decoded: DecodedRecord }> {
  const firstByte = firstNonSpace(plain);
  const protobufFormat = format.startsWith('otlp-proto-');
  // A protobuf request starts with field 1 (0x0a), which is also a newline and
  // may be followed by `{` (a 123-byte resource): JSON is only taken when it parses.
  let jsonLines: (() => ReturnType<typeof decodeJsonLines>) | undefined;
  if (firstByte === 0x7b /* { */ && !protobufFormat) {
    // Several one-line objects: JSON lines, without first failing to parse them as one document.
    if (isMultiLineJson(plain)) {
      if (format === 'auto' || format === 'json-lines')
        return decodeJsonLines(plain, compression, attributes);
    } else {
      // Scanned, not parsed: OTLP/JSON's resource attributes and a CloudWatch
      // envelope's few top-level fields are all that is read.
      const scanned = scanJsonRequest(plain, otlpListKeys, cloudWatchKeys);
      const fromScan = scanned && decodeScanned(plain, scanned, format, compression);
      if (fromScan) return fromScan;
      const text = plain.toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined) {
        const json = decodeJson(parsed, format, compression);
        if (json) return json;
      }
      if (format === 'auto' || format === 'json-lines') {
        jsonLines = () =>
          decodeJsonLines(
            plain,
            compression,
            attributes,
            parsed === undefined ? undefined : { value: parsed },
          );
        // A leading 0x0a may be protobuf's first tag: try that first.
        if (plain[0] !== 0x0a) return jsonLines();
      }
    }
  }
  if (plain[0] === 0x0a && (format === 'auto' || protobufFormat)) {
    const request = readOtlpProtobuf(plain);
    if (request) {
      const configured = protobufFormat ? (format.slice('otlp-proto-'.length) as Signal) : undefined;
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
    }
  }
  if (jsonLines) return jsonLines();
  return {
    passThrough: 'undecodable',
    reason: `not ${format === 'auto' ? 'a recognised telemetry encoding' : format}`,
  };
}

/** A whole-record JSON document: OTLP JSON or a CloudWatch Logs envelope; undefined when it is neither. */
/** OTLP/JSON or a CloudWatch Logs envelope from a scan; undefined when the scan cannot settle it. */
function decodeScanned(
  plain: Buffer,
  scanned: ScannedRequest,
  format: InputFormat,
  compression: Compression,
): DecodedRecord | Exclude<Decoding, { decoded: DecodedRecord }> | undefined {
  if (scanned.listKey) {
    const otlp = format === 'auto' || format === 'otlp-json' ? otlpFromScan(plain, scanned) : undefined;
    return (
      otlp && {
        kind: 'otlp-json',
        signal: otlp.signal,
        compression,
        sources: otlp.sources,
        encode(ownership) {
          return compressed(otlp.encode(ownership), compression);
        },
      }
    );
  }
  const { messageType, owner, logGroup, logStream } = scanned.captured;
  const cloudWatch =
    typeof messageType === 'string' &&
    scanned.keys.includes('logEvents') &&
    (format === 'auto' || format === 'cloudwatch-logs');
  // The producer's own ownership.* keys are replaced, which takes a full parse.
  if (!cloudWatch || scanned.keys.some((k) => k.startsWith('ownership.'))) return undefined;
  if (messageType === 'CONTROL_MESSAGE')
    return { passThrough: 'control-message', reason: 'CloudWatch Logs control message' };
  const sources = [
    cloudWatchAttributes({
      logGroup: String(logGroup ?? ''),
      logStream: String(logStream ?? ''),
      owner: String(owner ?? ''),
    }),
  ];
  return {
    kind: 'cloudwatch-logs',
    compression,
    sources,
    encode(ownership) {
      return compressed(spliceObject(plain, scanned.close, false, ownership[0] ?? {}), compression);
    },
  };
}

function decodeJson(
  parsed: unknown,
  format: InputFormat,
  compression: Compression,
): DecodedRecord | Exclude<Decoding, { decoded: DecodedRecord }> | undefined {
  const signal = otlpJsonSignal(parsed);
  if (signal && (format === 'auto' || format === 'otlp-json')) {
    const request = parsed as Record<string, unknown>;
    const resources = resourcesOf(request, signal);
    return {
      kind: 'otlp-json',
      signal,
      compression,
      sources: resources.map((r) => attributesOf(r.resource?.attributes)),
      encode(ownership) {
        return compressed(Buffer.from(stringifyStamped(request, signal, ownership)), compression);
      },
    };
  }
  if (isCloudWatchLogsEnvelope(parsed) && (format === 'auto' || format === 'cloudwatch-logs')) {
    if (parsed.messageType === 'CONTROL_MESSAGE')
      return { passThrough: 'control-message', reason: 'CloudWatch Logs control message' };
    // Reached only when the producer set ownership.* keys (else the scan took it): re-serialized.
    const envelope = parsed as unknown as Record<string, unknown>;
    return {
      kind: 'cloudwatch-logs',
      compression,
      sources: [cloudWatchAttributes(parsed)],
      encode(ownership) {
        return compressed(
          Buffer.from(JSON.stringify(stampObject(envelope, ownership[0] ?? {}))),
          compression,
        );
      },
    };
  }
  return undefined;
}

/** Re-encoded bytes, compressed as the input was: one record out. */
function compressed(bytes: Buffer, compression: Compression): Buffer[] {
  return [compress(bytes, compression)];
}

/** The first byte that is not JSON whitespace. */
function firstNonSpace(buf: Buffer): number | undefined {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  }
  return undefined;
}

function decodeJsonLines(
  plain: Buffer,
  compression: Compression,
  attributes: ReadonlySet<string> | undefined,
  whole?: { value: unknown },
): DecodedRecord | Exclude<Decoding, { decoded: DecodedRecord }> {
  const lines = readJsonLines(plain, whole, attributes);
  if (!lines)
    return {
      passThrough: 'undecodable',
      reason: isUtf8(plain) ? 'no JSON object in the record' : 'JSON lines that are not UTF-8',
    };
  return {
    kind: 'json-lines',
    compression,
    sources: lines.sources,
    encode(ownership) {
      return compressed(lines.encode(ownership), compression);
    },
  };
}

function decodeKpl(
  data: Buffer,
  format: InputFormat,
  partitionKey: string,
  attributes: ReadonlySet<string> | undefined,
): Decoding {
  let userRecords: { partitionKey: string; explicitPartitionKey?: string; data: string }[] = [];
  let failure: Error | undefined;
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
  if (failure)
    return { passThrough: 'undecodable', reason: `KPL aggregate does not decode: ${failure.message}` };
  const parts = userRecords.map((user) => {
    const bytes = Buffer.from(user.data, 'base64');
    const decoding = decodeRecord(bytes, format, user.partitionKey, attributes);
    return { user, bytes, decoded: 'decoded' in decoding ? decoding.decoded : undefined };
  });
  return {
    decoded: {
      kind: 'kpl',
      compression: 'none',
      sources: parts.flatMap((p) => p.decoded?.sources ?? []),
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
