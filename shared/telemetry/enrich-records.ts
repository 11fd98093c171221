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
  type DecodedRecord,
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

type DecodedInput = { record: InputRecord; decoding: Decoding };
type DistinctSource = {
  source: SourceAttributes;
  result?: OwnershipResult;
  stamped?: Record<string, string>;
};

/**
 * The batch's distinct sources. Records of one batch come from few sources:
 * each is keyed, loaded from the catalog and resolved once. A source is what
 * resolution (and the unowned list) looks at, not every attribute: a log
 * line's message must not make each line a source of its own.
 */
class BatchSources {
  private readonly distinct = new Map<string, DistinctSource>();
  private snapshot: CatalogSnapshot | undefined;

  constructor(
    private readonly options: EnrichOptions,
    private readonly counts: EnrichmentCounts,
    private readonly kept: ReadonlySet<string> | undefined,
  ) {}

  /**
   * Each decoded record's source keys, once the sources this batch has not
   * seen yet are loaded: a catalog outage costs one bounded attempt per new
   * source, not one per chunk.
   */
  async keyChunk(chunk: DecodedInput[]): Promise<string[][]> {
    const fresh: SourceAttributes[] = [];
    // Decoders hand out one object for a source that repeats: keyed once.
    let last: { attributes?: SourceAttributes; key: string } = { key: '' };
    const keyed = chunk.map(({ decoding }) =>
      'decoded' in decoding
        ? decoding.decoded.sources.map((attributes) => {
            if (attributes === last.attributes) return last.key;
            const key = keyOf(attributes, this.kept);
            last = { attributes, key };
            if (!this.distinct.has(key)) {
              const source = keptOf(attributes, this.kept);
              this.distinct.set(key, { source });
              fresh.push(source);
            }
            return key;
          })
        : [],
    );
    if (fresh.length > 0 || !this.snapshot) {
      await this.options.catalog.prefetch(fresh);
      this.snapshot = this.options.catalog.snapshot();
    }
    return keyed;
  }

  /** The attributes to stamp on the source keyed `key`, counted once per record it appears in. */
  stamped(key: string): Record<string, string> {
    const entry = this.distinct.get(key) as DistinctSource;
    if (!entry.result) {
      entry.result = resolveOwnership(entry.source, this.snapshot as CatalogSnapshot);
      if (entry.result.status === 'owned') this.options.onOwned?.(entry.source, entry.result.match);
    }
    this.count(entry.result, entry.source);
    // One object per distinct source: encoders cache its encoding by identity.
    entry.stamped ??= keepStamped(entry.result.attributes, this.options.stampedAttributes);
    return entry.stamped;
  }

  private count(result: OwnershipResult, source: SourceAttributes) {
    if (result.status === 'owned') this.counts.sourcesOwned++;
    else if (result.status === 'unowned') {
      this.counts.sourcesUnowned++;
      this.options.onUnowned?.(source);
    } else this.counts.sourcesUnresolved++;
  }
}

/** The batch's output records and counts: every input record ends here, stamped or passed through. */
class BatchOutput {
  readonly outputs: OutputRecord[] = [];
  readonly counts: EnrichmentCounts;
  private readonly maxBytes: number;

  constructor(
    private readonly options: EnrichOptions,
    recordsIn: number,
  ) {
    this.counts = {
      recordsIn,
      recordsEnriched: 0,
      recordsPassedThrough: 0,
      passedThrough: {},
      firstPassThrough: {},
      controlMessages: 0,
      sourcesOwned: 0,
      sourcesUnowned: 0,
      sourcesUnresolved: 0,
    };
    this.maxBytes = options.maxRecordBytes ?? 1024 * 1024;
  }

  /** A decoded chunk out, each record stamped with its sources' ownership or passed through. */
  emitChunk(chunk: DecodedInput[], keyed: string[][], sources: BatchSources) {
    for (const [i, { record, decoding }] of chunk.entries()) {
      // Released as it is used: a chunk's decoded records are not all held to its end.
      (chunk[i] as { decoding?: Decoding }).decoding = undefined;
      if ('decoded' in decoding) this.emitDecoded(record, decoding.decoded, keyed[i] as string[], sources);
      else this.passThrough(record, decoding.passThrough, decoding.reason);
    }
  }

  private emitDecoded(record: InputRecord, decoded: DecodedRecord, keys: string[], sources: BatchSources) {
    if (this.options.strict && decoded.unvouched)
      return this.passThrough(record, 'unvouched-part', decoded.unvouched);
    let encoded: Buffer[];
    try {
      encoded = decoded.encode(keys.map((key) => sources.stamped(key)));
    } catch (error) {
      return this.passThrough(record, 'encoder-failure', describe(error));
    }
    if (encoded.some((data) => data.length + Buffer.byteLength(record.partitionKey) > this.maxBytes))
      return this.passThrough(record, 'oversize', `enriched past the ${this.maxBytes}-byte record limit`);
    this.counts.recordsEnriched++;
    const { kind, signal, compression } = decoded;
    const otlp =
      signal && (kind === 'otlp-json' || kind === 'otlp-protobuf')
        ? { signal, protobuf: kind === 'otlp-protobuf', compression }
        : undefined;
    for (const data of encoded)
      this.outputs.push({
        id: record.id,
        partitionKey: record.partitionKey,
        data,
        ...(otlp ? { otlp } : {}),
      });
  }

  private passThrough(record: InputRecord, why: PassThroughReason, reason: string) {
    const counts = this.counts;
    counts.recordsPassedThrough++;
    counts.passedThrough[why] = (counts.passedThrough[why] ?? 0) + 1;
    counts.firstPassThrough[why] ??= { id: record.id, reason };
    if (why === 'control-message') counts.controlMessages++;
    this.outputs.push({
      id: record.id,
      partitionKey: record.partitionKey,
      data: record.data,
      passThrough: why,
    });
  }
}

/** The chunk of records from `start`: up to `chunkSize` of them, fewer once they have inflated to `chunkBytes`. */
function decodeChunk(
  records: InputRecord[],
  start: number,
  format: InputFormat,
  decodeOptions: DecodeOptions & { budget: DecompressionBudget },
): DecodedInput[] {
  const { budget } = decodeOptions;
  const budgetAtStart = budget.remaining;
  const chunk: DecodedInput[] = [];
  for (
    let next = start;
    next < records.length && chunk.length < chunkSize && budgetAtStart - budget.remaining < chunkBytes;
    next++
  ) {
    const record = records[next] as InputRecord;
    chunk.push({ record, decoding: decodeIsolated(record, format, decodeOptions) });
  }
  return chunk;
}

export async function enrichRecords(records: InputRecord[], options: EnrichOptions) {
  const output = new BatchOutput(options, records.length);
  const relevant = await options.catalog.relevantAttributes?.();
  const kept = relevant ? new Set([...relevant, ...identifyingAttributes]) : undefined;
  const sources = new BatchSources(options, output.counts, kept);
  // Without a budget of its own, the batch is still metered: chunks close by the bytes inflated.
  const budget = options.budget ?? new DecompressionBudget(Number.MAX_SAFE_INTEGER);
  const decodeOptions = { ...(kept ? { attributes: kept } : {}), budget };
  for (let start = 0; start < records.length; ) {
    const chunk = decodeChunk(records, start, options.format, decodeOptions);
    start += chunk.length;
    const keyed = await sources.keyChunk(chunk);
    output.emitChunk(chunk, keyed, sources);
  }
  return { outputs: output.outputs, counts: output.counts };
}
