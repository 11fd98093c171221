/**
 * A batch of Kinesis records through the enricher: decode each, load what the
 * catalog must say about all their sources at once, resolve each distinct
 * source once, and re-encode. A record that cannot be decoded comes out
 * unchanged: every input record yields output, none is dropped.
 */

import type { OwnershipResult, SourceAttributes } from '#shared/ownership/ownership-context';
import type { CatalogSnapshot } from '#shared/ownership/resolve-ownership';
import { resolveOwnership } from '#shared/ownership/resolve-ownership';
import type { Compression } from '#shared/telemetry/compression';
import type { Signal } from '#shared/telemetry/otlp-json';
import { decodeRecord, type InputFormat } from '#shared/telemetry/record-codec';

export interface InputRecord {
  /** The Kinesis sequence number: what a partial batch response names. */
  id: string;
  partitionKey: string;
  data: Buffer;
}

export interface OutputRecord {
  id: string;
  partitionKey: string;
  data: Buffer;
  /** Set on enriched OTLP records, for the optional OTLP/HTTP forwarder. */
  otlp?: { signal: Signal; protobuf: boolean; compression: Compression };
}

export interface EnrichmentCounts {
  recordsIn: number;
  recordsEnriched: number;
  recordsPassedThrough: number;
  controlMessages: number;
  sourcesOwned: number;
  sourcesUnowned: number;
  sourcesUnresolved: number;
}

export interface OwnershipSource {
  prefetch(sources: SourceAttributes[]): Promise<void>;
  snapshot(): CatalogSnapshot;
}

export interface EnrichOptions {
  catalog: OwnershipSource;
  format: InputFormat;
  /** Called for each source nobody owns (the unowned tracker). */
  onUnowned?: (source: SourceAttributes) => void;
  /** Largest record Kinesis accepts; an enriched record above it is passed through as it came. */
  maxRecordBytes?: number;
}

export async function enrichRecords(records: InputRecord[], options: EnrichOptions) {
  const counts: EnrichmentCounts = {
    recordsIn: records.length,
    recordsEnriched: 0,
    recordsPassedThrough: 0,
    controlMessages: 0,
    sourcesOwned: 0,
    sourcesUnowned: 0,
    sourcesUnresolved: 0,
  };
  const decoded = records.map((record) => ({
    record,
    decoding: decodeRecord(record.data, options.format, record.partitionKey),
  }));
  const sources = decoded.flatMap(({ decoding }) => ('decoded' in decoding ? decoding.decoded.sources : []));
  await options.catalog.prefetch(sources);
  const snapshot = options.catalog.snapshot();
  // Records of one batch come from few sources: resolve each distinct one once.
  const memo = new Map<string, OwnershipResult>();
  const resolve = (source: SourceAttributes) => {
    const key = JSON.stringify(source);
    let result = memo.get(key);
    if (!result) {
      result = resolveOwnership(source, snapshot);
      memo.set(key, result);
    }
    if (result.status === 'owned') counts.sourcesOwned++;
    else if (result.status === 'unowned') {
      counts.sourcesUnowned++;
      options.onUnowned?.(source);
    } else counts.sourcesUnresolved++;
    return result.attributes;
  };

  const maxBytes = options.maxRecordBytes ?? 1024 * 1024;
  const outputs: OutputRecord[] = [];
  for (const { record, decoding } of decoded) {
    const passThrough = () => {
      counts.recordsPassedThrough++;
      outputs.push({ id: record.id, partitionKey: record.partitionKey, data: record.data });
    };
    if (!('decoded' in decoding)) {
      if (decoding.passThrough === 'control-message') counts.controlMessages++;
      passThrough();
      continue;
    }
    let encoded: Buffer[];
    try {
      encoded = decoding.decoded.encode(decoding.decoded.sources.map(resolve));
    } catch {
      passThrough();
      continue;
    }
    if (encoded.some((data) => data.length + Buffer.byteLength(record.partitionKey) > maxBytes)) {
      passThrough();
      continue;
    }
    counts.recordsEnriched++;
    const { kind, signal, compression } = decoding.decoded;
    const otlp =
      signal && (kind === 'otlp-json' || kind === 'otlp-protobuf')
        ? { signal, protobuf: kind === 'otlp-protobuf', compression }
        : undefined;
    for (const data of encoded)
      outputs.push({ id: record.id, partitionKey: record.partitionKey, data, ...(otlp ? { otlp } : {}) });
  }
  return { outputs, counts };
}
