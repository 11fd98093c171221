/**
 * The enricher's view of the catalog. A warm container reads each distinct
 * service, team, repository and environment at most once per TTL, in
 * `BatchGetItem`s of up to 100 keys (unprocessed keys retried with backoff),
 * and all services' selectors with one paginated Query per TTL, compiled into
 * one matcher. When the catalog cannot be read, a stale copy is used if there
 * is one; otherwise resolution says `unresolved` — the shard never stalls.
 *
 * Bounded: at most `maxEntries` items (and as many keys marked unavailable)
 * are kept; past that, the longest-loaded go first, before the next load. A
 * key DynamoDB could not hold (a sort key over 1,024 bytes of UTF-8, or not
 * well-formed Unicode) is known
 * absent without asking: it would fail the whole shared `BatchGetItem`.
 *
 * Reads are bounded too: at most `readBudget.keys` keys are read per
 * `readBudget.intervalMs` (default 1,000 keys a second: at most 10
 * `BatchGetItem`s of 100 keys, however many distinct `service.name` values a
 * producer sends). A key past the budget is treated as when DynamoDB could not
 * read it: a stale copy is served if there is one, otherwise resolution says
 * `unresolved` (the record still goes out), and `stats.overBudget` counts it.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Environment, Repository, Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import {
  type CatalogSnapshot,
  environmentAttributes,
  type Lookup,
} from '#shared/ownership/resolve-ownership';
import {
  compileSelectors,
  type SelectorMatcher,
  type ServiceSelectors,
} from '#shared/ownership/selector-matcher';
import { fullJitterDelay } from '#shared/retry/retry-with-backoff';
import { queryAll } from '#shared/store/dynamodb-client';
import { itemKey, partitionQuery } from '#shared/store/table-definitions';

type Kind = 'service' | 'team' | 'repository' | 'environment';

interface Entry {
  doc: Record<string, unknown> | undefined;
  loadedAt: number;
}

export interface CatalogCacheOptions {
  client: DynamoDBDocumentClient;
  table: string;
  ttlMs: number;
  now?: () => number;
  /** After a failed selector load, how long before trying again (not once per chunk of a batch). @default 1000 */
  retryAfterMs?: number;
  /** Rounds of `UnprocessedKeys` retries before giving up on the rest. @default 5 */
  maxRounds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Items kept (found or known absent); the longest-loaded are evicted past it. @default 10000 */
  maxEntries?: number;
  /** Where the selectors come from when the caller holds them already (the API's shared snapshot). */
  selectors?: () => SelectorMatcher;
  /** Keys read from DynamoDB per interval; past it, keys are unavailable until the next. @default 1000 per 1000 ms */
  readBudget?: { keys: number; intervalMs: number };
}

export const defaultReadBudget = { keys: 1_000, intervalMs: 1_000 };

/** DynamoDB's limit on a sort key value, in UTF-8 bytes. */
export const maxSortKeyBytes = 1024;
/** A string with one is not valid UTF-8, which DynamoDB refuses in a key. */
const loneSurrogate = /\p{Cs}/u;

export interface CatalogCacheStats {
  /** Items and query pages read from DynamoDB. */
  catalogReads: number;
  hits: number;
  misses: number;
  failures: number;
  /** Keys not read because the interval's read budget was spent. */
  overBudget: number;
}

const key = (kind: Kind, id: string) => `${kind}#${id}`;
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export class CatalogCache {
  readonly stats: CatalogCacheStats = {
    catalogReads: 0,
    hits: 0,
    misses: 0,
    failures: 0,
    overBudget: 0,
  };
  private readonly entries = new Map<string, Entry>();
  /**
   * Keys a load could not read and had no copy of, until a load reads them.
   * Never cleared wholesale: invocations sharing a container's cache (the
   * local poller runs shards side by side) must not unmark each other's.
   */
  private readonly unavailable = new Set<string>();
  private matcher: { value: SelectorMatcher; loadedAt: number } | undefined;
  private matcherUnavailable = false;
  private selectorsFailedAt = Number.NEGATIVE_INFINITY;
  private readWindow = { start: Number.NEGATIVE_INFINITY, keys: 0 };
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CatalogCacheOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * The attributes resolution looks at: `service.name`, the environment, and
   * whatever a selector names. Loads the selectors when they are not fresh.
   */
  async relevantAttributes(): Promise<ReadonlySet<string> | undefined> {
    await this.loadSelectors();
    if (!this.matcher) return undefined;
    return new Set(['service.name', ...environmentAttributes, ...this.matcher.value.attributes]);
  }

  /** Entries and unavailable marks held now (for tests and the bound's measurement). */
  get size() {
    return { entries: this.entries.size, unavailable: this.unavailable.size };
  }

  /** Loads what resolving these sources needs and is not fresh in the cache. */
  async prefetch(sources: SourceAttributes[]): Promise<void> {
    // Before loading, not after: what this prefetch loads is what the snapshot must answer from.
    this.evict();
    await this.loadSelectors();
    const services = new Set<string>();
    for (const source of sources) {
      const name = first(source['service.name']);
      if (name) services.add(name);
      const matched = this.matcher?.value.match(source)?.service;
      if (matched) services.add(matched);
    }
    await this.load([...services].map((id) => ['service', id] as const));
    const related: (readonly [Kind, string])[] = [];
    for (const id of services) {
      const service = this.entries.get(key('service', id))?.doc as Service | undefined;
      if (!service) continue;
      related.push(['team', service.team]);
      if (service.repository) related.push(['repository', service.repository]);
      for (const environment of service.environments ?? []) related.push(['environment', environment]);
    }
    await this.load(related);
  }

  snapshot(): CatalogSnapshot {
    const lookup = <T>(kind: Kind, id: string): Lookup<T> => {
      const k = key(kind, id);
      if (this.unavailable.has(k)) return 'unavailable';
      return this.entries.get(k)?.doc as T | undefined;
    };
    return {
      service: (id) => lookup<Service>('service', id),
      team: (id) => lookup<Team>('team', id),
      repository: (id) => lookup<Repository>('repository', id),
      environment: (id) => lookup<Environment>('environment', id),
      selectors: () => (this.matcher ? this.matcher.value : 'unavailable'),
    };
  }

  private fresh(loadedAt: number) {
    return this.now() - loadedAt < this.options.ttlMs;
  }

  private async loadSelectors(): Promise<void> {
    if (this.matcher && this.fresh(this.matcher.loadedAt) && !this.matcherUnavailable) return;
    if (this.now() - this.selectorsFailedAt < (this.options.retryAfterMs ?? 1_000)) return;
    if (this.options.selectors) {
      this.matcher = { value: this.options.selectors(), loadedAt: this.now() };
      return;
    }
    try {
      const items = await queryAll(this.options.client, {
        ...partitionQuery(this.options.table, 'service'),
        ProjectionExpression: 'sk, #doc.selectors',
        ExpressionAttributeNames: { '#doc': 'doc' },
      });
      this.stats.catalogReads += 1;
      const services: ServiceSelectors[] = items.map((item) => ({
        id: String(item.sk),
        selectors: (item.doc as { selectors?: ServiceSelectors['selectors'] } | undefined)?.selectors ?? [],
      }));
      this.matcher = { value: compileSelectors(services), loadedAt: this.now() };
      this.matcherUnavailable = false;
    } catch {
      this.stats.failures++;
      // Stale selectors beat none; retried after a pause.
      this.matcherUnavailable = true;
      this.selectorsFailedAt = this.now();
    }
  }

  /** Drops the longest-loaded entries and unavailable marks past `maxEntries` (maps keep insertion order). */
  private evict() {
    const max = this.options.maxEntries ?? 10_000;
    for (const store of [this.entries, this.unavailable]) {
      let excess = store.size - max;
      if (excess <= 0) continue;
      for (const k of store.keys()) {
        if (excess-- <= 0) break;
        store.delete(k);
      }
    }
  }

  /** Stores a load's result; re-inserted so that insertion order is load order. */
  private store(id: string, entry: Entry) {
    this.entries.delete(id);
    this.entries.set(id, entry);
  }

  private async load(wanted: readonly (readonly [Kind, string])[]): Promise<void> {
    const missing = new Map<string, { pk: Kind; sk: string }>();
    for (const [kind, id] of wanted) {
      const k = key(kind, id);
      const entry = this.entries.get(k);
      if (entry && this.fresh(entry.loadedAt)) {
        this.stats.hits++;
        continue;
      }
      if (loneSurrogate.test(id) || Buffer.byteLength(id) > maxSortKeyBytes) {
        // No item can have this key: absent, and not worth a request that DynamoDB would refuse.
        this.store(k, { doc: undefined, loadedAt: this.now() });
        this.unavailable.delete(k);
        continue;
      }
      if (!missing.has(k)) {
        this.stats.misses++;
        missing.set(k, itemKey(kind, id));
      }
    }
    const keys = this.withinBudget([...missing.values()]);
    for (let i = 0; i < keys.length; i += 100) await this.batchGet(keys.slice(i, i + 100));
  }

  /**
   * The keys the interval's read budget still allows, in the order asked; the
   * rest are handled like keys DynamoDB could not read (a stale copy, or unavailable).
   */
  private withinBudget(keys: { pk: Kind; sk: string }[]) {
    const budget = this.options.readBudget ?? defaultReadBudget;
    const now = this.now();
    if (now - this.readWindow.start >= budget.intervalMs) this.readWindow = { start: now, keys: 0 };
    const allowed = Math.max(0, Math.min(keys.length, budget.keys - this.readWindow.keys));
    this.readWindow.keys += allowed;
    for (const k of keys.slice(allowed)) {
      this.stats.overBudget++;
      const id = key(k.pk, k.sk);
      if (!this.entries.has(id)) this.unavailable.add(id);
    }
    return keys.slice(0, allowed);
  }

  private async batchGet(keys: { pk: Kind; sk: string }[]): Promise<void> {
    const table = this.options.table;
    let pending = keys;
    const loadedAt = this.now();
    try {
      for (let round = 0; pending.length > 0; round++) {
        if (round >= (this.options.maxRounds ?? 5))
          throw new Error(`${pending.length} keys still unprocessed`);
        if (round > 0) await this.sleep(fullJitterDelay(round, { baseMs: 100, capMs: 1_000 }));
        this.stats.catalogReads += pending.length;
        const result = await this.options.client.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: pending,
                ProjectionExpression: 'pk, sk, #doc',
                ExpressionAttributeNames: { '#doc': 'doc' },
              },
            },
          }),
        );
        const found = new Map(
          (result.Responses?.[table] ?? []).map((item) => [key(item.pk as Kind, String(item.sk)), item.doc]),
        );
        const unprocessed = (result.UnprocessedKeys?.[table]?.Keys ?? []) as { pk: Kind; sk: string }[];
        const retry = new Set(unprocessed.map((k) => key(k.pk, k.sk)));
        for (const k of pending) {
          const id = key(k.pk, k.sk);
          if (retry.has(id)) continue;
          this.store(id, { doc: found.get(id) as Record<string, unknown> | undefined, loadedAt });
          this.unavailable.delete(id);
        }
        pending = unprocessed;
      }
    } catch {
      this.stats.failures++;
      for (const k of pending) {
        const id = key(k.pk, k.sk);
        // Keep serving a stale copy when there is one.
        if (!this.entries.has(id)) this.unavailable.add(id);
      }
    }
  }
}
