/**
 * `portolan audit export`: everything an auditor needs to verify the log
 * offline — the signed digests, their public keys, every entity's events and
 * heads — written to a directory (format in `shared/audit/export-format.ts`).
 *
 * Digests are read first, so none attests an event the export lacks; heads are
 * read again after the events, and an entity whose head moved meanwhile is read
 * again, so a change made during the export does not look like tampering.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedDigest } from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import { digestKey, publicKeyKey } from '#shared/audit/digest-archive';
import { exportFormat } from '#shared/audit/export-format';

type Call = (method: string, path: string) => Promise<Record<string, unknown>>;

interface Page<T> {
  items?: T[];
  nextCursor?: string;
}

async function allPages<T>(
  call: Call,
  path: string,
  limit: number,
  onPage?: (page: Record<string, unknown>) => void,
) {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = (await call(
      'GET',
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )) as Page<T> & Record<string, unknown>;
    items.push(...(page.items ?? []));
    onPage?.(page);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

const entityEvents = async (call: Call, entity: string) =>
  (await allPages<AuditEvent>(call, `/v1/audit?entity=${encodeURIComponent(entity)}`, 100)).reverse();

/** Runs `work` on each item, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export interface ExportSummary {
  dir: string;
  digests: number;
  entities: number;
  events: number;
}

export async function exportAudit(call: Call, dir: string, apiUrl: string): Promise<ExportSummary> {
  const publicKeys: Record<string, string> = {};
  const digests = await allPages<SignedDigest>(call, '/v1/audit/digests', 100, (page) =>
    Object.assign(publicKeys, page.publicKeys),
  );
  const headsOf = async () =>
    new Map((await allPages<AuditHead>(call, '/v1/audit/heads', 1000)).map((h) => [h.entity, h]));
  let heads = await headsOf();
  const entities = new Set([...heads.keys(), ...digests.flatMap((d) => d.heads.map((h) => h.entity))]);
  const events = new Map<string, AuditEvent[]>();
  let stale = [...entities];
  for (let round = 0; round < 3 && stale.length > 0; round++) {
    await inParallel(stale, 8, async (entity) => {
      events.set(entity, await entityEvents(call, entity));
    });
    const before = heads;
    heads = await headsOf();
    stale = [...heads.keys()].filter((e) => before.get(e)?.seq !== heads.get(e)?.seq || !events.has(e));
  }

  mkdirSync(join(dir, 'digests'), { recursive: true });
  mkdirSync(join(dir, 'public-keys'), { recursive: true });
  for (const digest of digests) {
    writeFileSync(join(dir, digestKey(digest.number)), `${JSON.stringify(digest, null, 2)}\n`);
  }
  for (const [fingerprint, pem] of Object.entries(publicKeys)) {
    writeFileSync(join(dir, publicKeyKey(fingerprint)), pem);
  }
  const ordered = [...events.keys()].sort();
  const eventLines = ordered.flatMap((entity) => (events.get(entity) ?? []).map((e) => JSON.stringify(e)));
  writeFileSync(join(dir, 'events.jsonl'), eventLines.map((line) => `${line}\n`).join(''));
  const headLines = [...heads.values()]
    .sort((a, b) => (a.entity < b.entity ? -1 : 1))
    .map((h) => JSON.stringify(h));
  writeFileSync(join(dir, 'heads.jsonl'), headLines.map((line) => `${line}\n`).join(''));
  const summary = { dir, digests: digests.length, entities: ordered.length, events: eventLines.length };
  writeFileSync(
    join(dir, 'manifest.json'),
    `${JSON.stringify({ format: exportFormat, source: apiUrl, exportedAt: new Date().toISOString(), ...summary }, null, 2)}\n`,
  );
  return summary;
}
