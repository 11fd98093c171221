/**
 * Every service's selectors, held once per API container and shared by its
 * requests: `/v1/resolve` matches against it, and the selector-claim check of
 * a service write compares against it. Without it both read every service on
 * every request, which grows with the catalog.
 *
 * - One copy: the documents of the services that have selectors (the claim
 *   check tests policy conditions on the owner's whole document), the version
 *   of every service, and the matcher compiled from them on first use.
 * - `matcher()` answers from a copy up to `ttlMs` old. When it is older, the
 *   first caller starts one reload, and callers keep getting the old copy
 *   until it lands (no request waits on a reload); a copy older than
 *   `maxStaleMs` (a reload kept failing) is not served: callers wait for the
 *   load, and its failure. Another container's write is therefore seen within
 *   `ttlMs` plus one load's duration.
 * - A write through this container (`written`, `deleted`; `observeServiceWrites`
 *   wires the store) updates the copy at once, so the writer's own next
 *   resolve sees it; a load already under way when the write lands gets the
 *   write applied on top of what it read.
 * - `fresh()` is for the claim check, which must not miss a conflicting claim
 *   another container wrote a moment ago: it reads every service's version
 *   with one strongly consistent, projected Query and re-reads only the
 *   services whose version moved (strongly consistent `BatchGetItem`s). The
 *   answer is exact as of that Query; it costs one Query of keys and versions
 *   (read capacity for the items' full size, but a fraction of the bytes) plus
 *   reads proportional to what changed, instead of every document.
 * - Bounded: past `maxServices` services a load is used by the calls waiting
 *   for it but not kept, so memory stays at one load per call in flight.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Selector } from '#shared/catalog/entity-schemas';
import { compileSelectors, type SelectorMatcher } from '#shared/ownership/selector-matcher';
import { fullJitterDelay } from '#shared/retry/retry-with-backoff';
import type { CatalogStore, StoredDocument, StoredEntity } from '#shared/store/catalog-store';
import { queryAll } from '#shared/store/dynamodb-client';
import { itemKey, partitionQuery } from '#shared/store/table-definitions';

export interface SelectorSnapshotOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** How old a copy `matcher()` answers from. @default 5000 */
  ttlMs?: number;
  /** How old a copy may still answer while it is being refreshed; older, callers wait for the load. @default 60000 */
  maxStaleMs?: number;
  /** Services (with or without selectors) past which a load is not kept. @default 50000 */
  maxServices?: number;
  now?: () => number;
}

export interface SelectorSnapshotStats {
  /** Full loads (every service's document). */
  loads: number;
  /** Version checks by `fresh()`. */
  checks: number;
  /** Documents re-read by `fresh()` because their version moved. */
  reread: number;
  /** DynamoDB requests, each page and each `BatchGetItem` counted. */
  requests: number;
}

interface View {
  /** Every service's version stamp (`version@updatedAt`: a service deleted and created again restarts at 1). */
  versions: Map<string, string>;
  /** The services that have selectors, by id. */
  claimants: Map<string, StoredDocument>;
  /** When the read it was built from began. */
  readAt: number;
  compiled?: SelectorMatcher;
}

type LocalWrite = { generation: number; id: string; entity?: StoredEntity };

const hasSelectors = (doc: StoredDocument | undefined) =>
  Array.isArray(doc?.selectors) && (doc.selectors as unknown[]).length > 0;

/** Items per page of a load (about 0.5 MB of documents, instead of DynamoDB's 1 MB pages). */
const pageItems = 1_000;
/** Keys per `BatchGetItem`, DynamoDB's limit. */
const batchKeys = 100;
/** Rounds of `UnprocessedKeys` before a re-read gives up (the request then fails, never answers short). */
const maxRounds = 5;

export class SelectorSnapshot {
  readonly stats: SelectorSnapshotStats = { loads: 0, checks: 0, reread: 0, requests: 0 };
  private view: View | undefined;
  private loading: Promise<View> | undefined;
  /** Writes through this container, kept until a read that began after them is installed. */
  private localWrites: LocalWrite[] = [];
  private generation = 0;
  private readonly ttlMs: number;
  private readonly maxServices: number;
  private readonly maxStaleMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SelectorSnapshotOptions) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.maxServices = options.maxServices ?? 50_000;
    this.maxStaleMs = options.maxStaleMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Every service's selectors compiled, from a copy at most `ttlMs` old (or written here since). */
  async matcher(): Promise<SelectorMatcher> {
    const view = await this.current();
    view.compiled ??= compileSelectors(
      [...view.claimants.values()].map((doc) => ({ id: doc.id, selectors: doc.selectors as Selector[] })),
    );
    return view.compiled;
  }

  /** The services that have selectors, exact as of a strongly consistent read made now. */
  async fresh(): Promise<StoredDocument[]> {
    const base = await this.current();
    const startedAt = this.now();
    const generation = this.generation;
    this.stats.checks++;
    const read = await this.queryServices('sk, version, updatedAt');
    const versions = new Map([...read].map(([id, item]) => [id, item.stamp]));
    const moved = [...versions]
      .filter(([id, version]) => base.versions.get(id) !== version)
      .map(([id]) => id);
    const claimants = new Map([...base.claimants].filter(([id]) => versions.has(id)));
    const reread = await this.reread(moved);
    for (const id of moved) {
      const doc = reread.get(id);
      if (!doc) versions.delete(id);
      if (hasSelectors(doc)) claimants.set(id, doc as StoredDocument);
      else claimants.delete(id);
    }
    const view: View = { versions, claimants, readAt: startedAt };
    this.install(view, generation);
    return [...claimants.values()];
  }

  /** A service this container wrote: its own next resolve must see it. */
  written(entity: StoredEntity) {
    this.noteLocal({ generation: ++this.generation, id: entity.doc.id, entity });
  }

  /** A service this container deleted. */
  deleted(id: string) {
    this.noteLocal({ generation: ++this.generation, id });
  }

  /** Services held now (for tests and the bound's measurement). */
  get size() {
    return this.view?.versions.size ?? 0;
  }

  private noteLocal(write: LocalWrite) {
    this.localWrites.push(write);
    if (this.view) {
      applyWrite(this.view, write);
      this.view.compiled = undefined;
    }
  }

  private async current(): Promise<View> {
    const view = this.view;
    const age = view ? this.now() - view.readAt : Number.POSITIVE_INFINITY;
    if (view && age < this.ttlMs) return view;
    const loading = this.refresh();
    // A stale copy answers while one load refreshes it, so no request waits on a reload; too old, they wait.
    return view && age < this.maxStaleMs ? view : loading;
  }

  private refresh(): Promise<View> {
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = undefined;
      });
      // Nobody may be waiting for a refresh behind a stale copy: its failure is retried by the next call.
      this.loading.catch(() => {});
    }
    return this.loading;
  }

  private async load(): Promise<View> {
    const readAt = this.now();
    const generation = this.generation;
    this.stats.loads++;
    const items = await this.queryServices('sk, version, updatedAt, #doc', { '#doc': 'doc' });
    const view: View = { versions: new Map(), claimants: new Map(), readAt };
    for (const [id, { stamp, doc }] of items) {
      view.versions.set(id, stamp);
      if (hasSelectors(doc)) view.claimants.set(id, doc as StoredDocument);
    }
    return this.install(view, generation);
  }

  /** Keeps `view` (with this container's later writes applied) unless a newer read is held or it is too big. */
  private install(view: View, generation: number): View {
    for (const write of this.localWrites) if (write.generation > generation) applyWrite(view, write);
    if (view.versions.size > this.maxServices) return view;
    if (!this.view || this.view.readAt <= view.readAt) {
      this.view = view;
      this.localWrites = this.localWrites.filter((w) => w.generation > generation);
    }
    return view;
  }

  private async queryServices(projection: string, names: Record<string, string> = {}) {
    const items = await queryAll(
      this.options.client,
      {
        ...partitionQuery(this.options.table, 'service'),
        ProjectionExpression: projection,
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ConsistentRead: true,
        // Pages of whole documents stay well inside the SDK's 1.5 s request timeout on a slow table.
        Limit: pageItems,
      },
      () => this.stats.requests++,
    );
    return new Map(
      items.map((item) => [String(item.sk), { stamp: stampOf(item), doc: item.doc as StoredDocument }]),
    );
  }

  /** The current documents of `ids` (absent ones left out), strongly consistent. */
  private async reread(ids: string[]): Promise<Map<string, StoredDocument>> {
    const docs = new Map<string, StoredDocument>();
    const table = this.options.table;
    for (let i = 0; i < ids.length; i += batchKeys) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + batchKeys).map((sk) => itemKey('service', sk));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= maxRounds) throw new Error(`${keys.length} services could not be read: throttled`);
        if (round > 0) await sleep(fullJitterDelay(round, { baseMs: 50, capMs: 1_000 }));
        this.stats.requests++;
        const result = await this.options.client.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#doc',
                ExpressionAttributeNames: { '#doc': 'doc' },
              },
            },
          }),
        );
        for (const item of result.Responses?.[table] ?? []) {
          const doc = item.doc as StoredDocument;
          docs.set(doc.id, doc);
        }
        keys = result.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    this.stats.reread += ids.length;
    return docs;
  }
}

const stampOf = (item: { version?: unknown; updatedAt?: unknown }) => `${item.version}@${item.updatedAt}`;

function applyWrite(view: View, { id, entity }: LocalWrite) {
  if (!entity) {
    view.versions.delete(id);
    view.claimants.delete(id);
    return;
  }
  view.versions.set(id, stampOf(entity));
  if (hasSelectors(entity.doc)) view.claimants.set(id, entity.doc);
  else view.claimants.delete(id);
}

/** The store, telling `snapshot` of every service it writes or deletes. */
export function observeServiceWrites(store: CatalogStore, snapshot: SelectorSnapshot): CatalogStore {
  return {
    ...store,
    async put(kind, doc, expected, ctx) {
      const result = await store.put(kind, doc, expected, ctx);
      if (kind === 'service' && result.changed) snapshot.written(result.entity);
      return result;
    },
    async delete(kind, id, expected, ctx) {
      const deleted = await store.delete(kind, id, expected, ctx);
      if (kind === 'service') snapshot.deleted(id);
      return deleted;
    },
  };
}
