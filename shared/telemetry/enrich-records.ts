/**
 * A batch of Kinesis records through the enricher: decode each, load what the
 * catalog must say about all their sources at once, resolve each distinct
 * source once, and re-encode. A record that cannot be decoded comes out
 * unchanged: every input record yields output, none is dropped.
 */

import type { OwnershipResult, SourceAttributes } from '#shared/ownership/ownership-context';
import type { CatalogSnapshot } from '#shared/ownership/resolve-ownership';
import { resolveOwnership } from '#shared/ownership/resolve-ownership';
import { identifyingAttributes } from '#shared/ownership/unowned-sources';
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
  /** The attributes resolution looks at; undefined: all of them. */
  relevantAttributes?(): Promise<ReadonlySet<string> | undefined>;
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

/**
 * A key that identifies a source as resolution sees it (only `kept`
 * attributes, when given). Attributes are taken in the order the producer
 * wrote them: one producer writes them alike, and a second order costs one
 * more resolve.
 */
function keyOf(attributes: SourceAttributes, kept: ReadonlySet<string> | undefined) {
  let key = '';
  for (const name in attributes) {
    if (kept && !kept.has(name)) continue;
    const value = attributes[name] as string | string[];
    key += `${name}\u0000${Array.isArray(value) ? value.join('\u0001') : value}\u0000`;
  }
  return key;
}

function keptOf(attributes: SourceAttributes, kept: ReadonlySet<string> | undefined) {
  if (!kept) return attributes;
  const source: SourceAttributes = {};
  for (const name in attributes) if (kept.has(name)) source[name] = attributes[name] as string | string[];
  return source;
}

/**
 * Records are enriched in chunks: decoded, resolved and re-encoded before the
 * next chunk is decoded, so decoded records die young instead of a whole
 * batch of them being held (and promoted by the garbage collector) at once.
 */
const chunkSize = 500;

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
  // Records of one batch come from few sources: load and resolve each distinct one once.
  // A source is what resolution (and the unowned list) looks at, not every
  // attribute: a log line's message must not make each line a source of its own.
  const relevant = await options.catalog.relevantAttributes?.();
  const kept = relevant ? new Set([...relevant, ...identifyingAttributes]) : undefined;
  const distinct = new Map<string, { source: SourceAttributes; result?: OwnershipResult }>();
  let snapshot: CatalogSnapshot | undefined;
  const resolve = (key: string) => {
    const entry = distinct.get(key) as { source: SourceAttributes; result?: OwnershipResult };
    entry.result ??= resolveOwnership(entry.source, snapshot as CatalogSnapshot);
    const result = entry.result;
    if (result.status === 'owned') counts.sourcesOwned++;
    else if (result.status === 'unowned') {
      counts.sourcesUnowned++;
      options.onUnowned?.(entry.source);
    } else counts.sourcesUnresolved++;
    return result.attributes;
  };

  const maxBytes = options.maxRecordBytes ?? 1024 * 1024;
  const outputs: OutputRecord[] = [];
  const passThrough = (record: InputRecord) => {
    counts.recordsPassedThrough++;
    outputs.push({ id: record.id, partitionKey: record.partitionKey, data: record.data });
  };
  for (let start = 0; start < records.length; start += chunkSize) {
    const decoded = records.slice(start, start + chunkSize).map((record) => ({
      record,
      decoding: decodeRecord(record.data, options.format, record.partitionKey, kept),
    }));
    const fresh: SourceAttributes[] = [];
    // Decoders hand out one object for a source that repeats: keyed once.
    let last: { attributes?: SourceAttributes; key: string } = { key: '' };
    const keyed = decoded.map(({ decoding }) =>
      'decoded' in decoding
        ? decoding.decoded.sources.map((attributes) => {
            if (attributes === last.attributes) return last.key;
            const key = keyOf(attributes, kept);
            last = { attributes, key };
            if (!distinct.has(key)) {
              const source = keptOf(attributes, kept);
              distinct.set(key, { source });
              fresh.push(source);
            }
            return key;
          })
        : [],
    );
    // Only sources this batch has not seen yet: a catalog outage costs one
    // bounded attempt per new source, not one per chunk.
    if (fresh.length > 0 || !snapshot) {
      await options.catalog.prefetch(fresh);
      snapshot = options.catalog.snapshot();
    }

    for (const [i, { record, decoding }] of decoded.entries()) {
      if (!('decoded' in decoding)) {
        if (decoding.passThrough === 'control-message') counts.controlMessages++;
        passThrough(record);
        continue;
      }
      let encoded: Buffer[];
      try {
        encoded = decoding.decoded.encode((keyed[i] as string[]).map(resolve));
      } catch {
        passThrough(record);
        continue;
      }
      if (encoded.some((data) => data.length + Buffer.byteLength(record.partitionKey) > maxBytes)) {
        passThrough(record);
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
  }
  return { outputs, counts };
}
