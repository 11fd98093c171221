/**
 * What the enricher remembers about the telemetry sources it sees, in memory
 * and in the catalog table: the unowned ones (unowned-sources.ts) and the ones
 * owned through a selector (observed-sources.ts). Both keep one tally per
 * source and write each tally on a later flush.
 *
 * Producers choose how many distinct sources there are, so both the memory and
 * the writes are bounded: at most `maxSources` tallies are held (written ones
 * make room for new ones; past that, new sources are dropped and counted), and
 * at most `maxWritesPerInterval` writes are made per `intervalMs`, the sources
 * with the most telemetry first.
 */
import { createHash } from 'node:crypto';
import type { SourceAttributes } from '#shared/ownership/ownership-context';

/** The attributes that identify a source (stable ones: not host names or instance ids). */
export const identifyingAttributes = [
  'service.name',
  'service.namespace',
  'deployment.environment.name',
  'deployment.environment',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.deployment.name',
  'cloud.account.id',
  'cloud.region',
  'faas.name',
  'aws.log.group.names',
];

/** Longest identifying value kept: an item holds the identity, and DynamoDB items are at most 400 KB. */
export const maxIdentityValueLength = 256;
/** Values kept of a list attribute. */
export const maxIdentityListValues = 16;

/** A value as stored: cut to length, lone surrogates (which DynamoDB refuses) replaced. */
const storable = (value: string) => value.slice(0, maxIdentityValueLength).replace(/\p{Cs}/gu, '\ufffd');

/** `names` of `attributes`, as stored, and a fingerprint of them that keys the source's item. */
export function identityOf(
  attributes: SourceAttributes,
  names: Iterable<string>,
): { fingerprint: string; attributes: SourceAttributes } {
  const identity: SourceAttributes = {};
  for (const name of names) {
    const value = attributes[name];
    if (value !== undefined)
      identity[name] = Array.isArray(value)
        ? value.slice(0, maxIdentityListValues).map(storable)
        : storable(value);
  }
  const fingerprint = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
  return { fingerprint, attributes: identity };
}

export const sourceIdentity = (attributes: SourceAttributes) => identityOf(attributes, identifyingAttributes);

export interface Tally {
  attributes: SourceAttributes;
  /** Telemetry seen since the last write. */
  pending: number;
  firstSeen: string;
  lastSeen: string;
  /** When this container last wrote the tally (or found it written). */
  flushedAt: number;
}

export interface SourceTallyOptions<T extends Tally> {
  intervalMs: number;
  now?: () => number;
  /** Tallies held in memory. */
  maxSources: number;
  /** Writes per interval. */
  maxWritesPerInterval: number;
  /** Whether a tally needs writing now (`force`: whatever the time since its last write). */
  due(tally: T, now: number, force: boolean): boolean;
  /** Writes a tally; a rejection keeps it for a later flush. */
  write(fingerprint: string, tally: T, now: number): Promise<void>;
}

export class SourceTallies<T extends Tally> {
  private readonly tallies = new Map<string, T>();
  /** Sources not tallied because the table was full of unwritten ones; writes made. */
  readonly stats = { dropped: 0, writes: 0 };
  private window = { start: Number.NEGATIVE_INFINITY, writes: 0 };

  constructor(private readonly options: SourceTallyOptions<T>) {}

  get size() {
    return this.tallies.size;
  }

  now() {
    return this.options.now?.() ?? Date.now();
  }

  /**
   * Counts `count` more telemetry of a source: `update` changes an existing
   * tally, `create` makes a new one (unless there is no room: then it is dropped and counted).
   */
  record(fingerprint: string, count: number, update: (tally: T) => void, create: () => T): void {
    const tally = this.tallies.get(fingerprint);
    if (tally) {
      tally.pending += count;
      tally.lastSeen = new Date(this.now()).toISOString();
      update(tally);
    } else if (this.makeRoom()) this.tallies.set(fingerprint, create());
    else this.stats.dropped += count;
  }

  /** Room for one more tally: written ones (nothing pending) are forgotten when the map is full. */
  private makeRoom(): boolean {
    if (this.tallies.size < this.options.maxSources) return true;
    for (const [fingerprint, tally] of this.tallies)
      if (tally.pending === 0) this.tallies.delete(fingerprint);
    return this.tallies.size < this.options.maxSources;
  }

  /**
   * Writes the due tallies within the interval's write allowance, most
   * telemetry first; failures and what the allowance leaves keep their counts
   * for later. Returns how many were written.
   */
  async flush(force = false): Promise<number> {
    const now = this.now();
    if (now - this.window.start >= this.options.intervalMs) this.window = { start: now, writes: 0 };
    const allowance = this.options.maxWritesPerInterval - this.window.writes;
    if (allowance <= 0) return 0;
    const due = [...this.tallies]
      .filter(([, tally]) => tally.pending > 0 && this.options.due(tally, now, force))
      .sort(([, a], [, b]) => b.pending - a.pending)
      .slice(0, allowance);
    this.window.writes += due.length;
    this.stats.writes += due.length;
    // One write per source, side by side: a batch is not held up source after source.
    const written = await Promise.all(
      due.map(async ([fingerprint, tally]) => {
        const count = tally.pending;
        try {
          await this.options.write(fingerprint, tally, now);
          tally.pending -= count;
          tally.flushedAt = now;
          return 1;
        } catch {
          // The catalog is unreachable: keep counting, write on a later flush.
          return 0;
        }
      }),
    );
    return written.reduce<number>((a, b) => a + b, 0);
  }
}
