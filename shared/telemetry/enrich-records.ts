/**
 * A batch of Kinesis records through the enricher: decode each, load what the
 * catalog must say about all their sources at once, resolve each distinct
 * source once, and re-encode. A record that cannot be decoded comes out
 * unchanged: every input record yields output, none is dropped.
 */

import type { OwnershipResult, SourceAttributes } from '#shared/ownership/ownership-context';
import type { CatalogSnapshot } from '#shared/ownership/resolve-ownership';
import { resolveOwnership } from '#shared/ownership/resolve-ownership';
import { keepStamped } from '#shared/ownership/stamped-attributes';
import { identifyingAttributes } from '#shared/ownership/unowned-sources';
import { type Compression, DecompressionBudget } from '#shared/telemetry/compression';
import type { Signal } from '#shared/telemetry/otlp-json';
import {
  type DecodeOptions,
  type Decoding,
  decodeRecord,
  type InputFormat,
  type PassThroughReason,
} from '#shared/telemetry/record-codec';

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
  /** Set on a record that comes out as it came in, not stamped: why. */
  passThrough?: PassThroughReason;
}

export interface EnrichmentCounts {
  recordsIn: number;
  recordsEnriched: number;
  recordsPassedThrough: number;
  /** Records passed through, by reason (control messages and empty records included). */
  passedThrough: Partial<Record<PassThroughReason, number>>;
  /** The first pass-through of each reason, for the log: which record, and what was wrong. */
  firstPassThrough: Partial<Record<PassThroughReason, { id: string; reason: string }>>;
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
  /** Called once per batch for each distinct source owned, with how (the observed-source tracker). */
  onOwned?: (source: SourceAttributes, match: OwnershipResult['match']) => void;
  /**
   * Largest record the output stream accepts (its configured maximum record
   * size, 1-10 MiB); an enriched record above it is passed through as it came.
   * @default 1 MiB
   */
  maxRecordBytes?: number;
  /** Decompressed bytes this invocation may spend; past it, compressed records pass through undecoded. */
  budget?: DecompressionBudget;
  /**
   * Also pass through (rather than stamp) a record part of which would be
   * copied unread: for deployments that divert pass-through records, so that
   * the output carries only what Portolan vouches for.
   */
  strict?: boolean;
  /** The `ownership.*` attributes stamped (the deployment's `ownershipAttributes`); all when absent. */
  stampedAttributes?: ReadonlySet<string>;
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
    key += `${part(name)}\u0000${Array.isArray(value) ? value.map(part).join('\u0001') : part(value)}\u0000`;
  }
  return key;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the key's separators are control characters.
const separators = /[\u0000-\u0002]/;
/**
 * A name or value as it goes into a key: as it is, unless it holds a
 * separator (then JSON-encoded, which escapes them, behind a marker). A
 * separator taken as it is would let a value spell another source's
 * attributes and take that source's resolution.
 */
const part = (text: string) => (separators.test(text) ? `\u0002${JSON.stringify(text)}` : text);

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
 * A chunk also closes once its records have inflated to `chunkBytes`, so
 * what is held at once stays a fraction of the decompression budget.
 */
const chunkSize = 500;
const chunkBytes = 16 * 1024 * 1024;

/**
 * Decodes one record in isolation: whatever a decoder does with a producer's
 * bytes (a bug, a stack overflow on some nesting not foreseen), it costs this
 * record its stamp and nothing else.
 */
function decodeIsolated(record: InputRecord, format: InputFormat, decodeOptions: DecodeOptions): Decoding {
  try {
    return decodeRecord(record.data, format, record.partitionKey, decodeOptions);
  } catch (error) {
    return { passThrough: 'decoder-failure', reason: describe(error) };
  }
}

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : 'non-error thrown';

export async function enrichRecords(records: InputRecord[], options: EnrichOptions) {
  const counts: EnrichmentCounts = {
    recordsIn: records.length,
    recordsEnriched: 0,
    recordsPassedThrough: 0,
    passedThrough: {},
    firstPassThrough: {},
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
  type Distinct = { source: SourceAttributes; result?: OwnershipResult; stamped?: Record<string, string> };
  const distinct = new Map<string, Distinct>();
  let snapshot: CatalogSnapshot | undefined;
  const resolve = (key: string) => {
    const entry = distinct.get(key) as Distinct;
    if (!entry.result) {
      entry.result = resolveOwnership(entry.source, snapshot as CatalogSnapshot);
      if (entry.result.status === 'owned') options.onOwned?.(entry.source, entry.result.match);
    }
    const result = entry.result;
    if (result.status === 'owned') counts.sourcesOwned++;
    else if (result.status === 'unowned') {
      counts.sourcesUnowned++;
      options.onUnowned?.(entry.source);
    } else counts.sourcesUnresolved++;
    // One object per distinct source: encoders cache its encoding by identity.
    entry.stamped ??= keepStamped(result.attributes, options.stampedAttributes);
    return entry.stamped;
  };

  // Without a budget of its own, the batch is still metered: chunks close by the bytes inflated.
  const budget = options.budget ?? new DecompressionBudget(Number.MAX_SAFE_INTEGER);
  const decodeOptions: DecodeOptions = { ...(kept ? { attributes: kept } : {}), budget };
  const maxBytes = options.maxRecordBytes ?? 1024 * 1024;
  const outputs: OutputRecord[] = [];
  const passThrough = (record: InputRecord, why: PassThroughReason, reason: string) => {
    counts.recordsPassedThrough++;
    counts.passedThrough[why] = (counts.passedThrough[why] ?? 0) + 1;
    counts.firstPassThrough[why] ??= { id: record.id, reason };
    if (why === 'control-message') counts.controlMessages++;
    outputs.push({ id: record.id, partitionKey: record.partitionKey, data: record.data, passThrough: why });
  };
  for (let start = 0; start < records.length; ) {
    const decoded: { record: InputRecord; decoding: Decoding }[] = [];
    const budgetAtStart = budget.remaining;
    while (
      start < records.length &&
      decoded.length < chunkSize &&
      budgetAtStart - budget.remaining < chunkBytes
    ) {
      const record = records[start++] as InputRecord;
      decoded.push({ record, decoding: decodeIsolated(record, options.format, decodeOptions) });
    }
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
      // Released as it is used: a chunk's decoded records are not all held to its end.
      (decoded[i] as { decoding?: Decoding }).decoding = undefined;
      if (!('decoded' in decoding)) {
        passThrough(record, decoding.passThrough, decoding.reason);
        continue;
      }
      if (options.strict && decoding.decoded.unvouched) {
        passThrough(record, 'unvouched-part', decoding.decoded.unvouched);
        continue;
      }
      let encoded: Buffer[];
      try {
        encoded = decoding.decoded.encode((keyed[i] as string[]).map(resolve));
      } catch (error) {
        passThrough(record, 'encoder-failure', describe(error));
        continue;
      }
      if (encoded.some((data) => data.length + Buffer.byteLength(record.partitionKey) > maxBytes)) {
        passThrough(record, 'oversize', `enriched past the ${maxBytes}-byte record limit`);
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
