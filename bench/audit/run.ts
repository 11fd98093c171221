/**
 * Audit digest benchmark: what one digest run, one `/v1/audit/verify` digest
 * check and an offline export verification cost in CPU, on synthetic catalogs
 * of growing size, side by side in one run (pure core, local P-256 key; KMS and
 * S3 round trips not included).
 *
 *   npx tsx bench/audit/run.ts [--entities 1000,10000] [--events 5] [--digests 48]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chainEvent } from '#shared/audit/audit-chain';
import {
  nextDigest,
  publicKeyFingerprint,
  publicKeyPem,
  type SignedDigest,
  signDigest,
} from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import { makeLocalDigestSigner } from '#shared/audit/local-digest-signer';
import { verifyEntity } from '#shared/audit/verify-entity';
import { verifyExport } from '#shared/audit/verify-export';

const { values } = parseArgs({
  options: {
    entities: { type: 'string', default: '1000,10000' },
    events: { type: 'string', default: '5' },
    digests: { type: 'string', default: '48' },
  },
});
const sizes = values.entities.split(',').map(Number);
const eventsPerEntity = Number(values.events);
const digestCount = Number(values.digests);

const signer = makeLocalDigestSigner(join(mkdtempSync(join(tmpdir(), 'portolan-bench-')), 'key.pem'));
const spki = await signer.publicKey();
const fingerprint = publicKeyFingerprint(spki);

async function timed<T>(work: () => Promise<T> | T): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - start) / 1e6];
}

function catalog(entities: number) {
  const events: AuditEvent[] = [];
  const heads: AuditHead[] = [];
  for (let e = 0; e < entities; e++) {
    let last: AuditEvent | undefined;
    for (let i = 0; i < eventsPerEntity; i++) {
      last = chainEvent(last, {
        entity: `service/svc-${e}`,
        at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
        action: i === 0 ? 'create' : 'update',
        actor: { iss: 'https://issuer.example', sub: 'ci' },
        requestId: `r-${e}-${i}`,
        before: i === 0 ? null : { id: `svc-${e}`, team: 'payments', version: i },
        after: { id: `svc-${e}`, team: 'payments', version: i + 1 },
      });
      events.push(last);
    }
    if (last) heads.push({ entity: last.entity, seq: last.seq, hash: last.hash, at: last.at });
  }
  return { events, heads };
}

console.log(`\nAudit digests: ${eventsPerEntity} events per entity, ${digestCount} digests, one run\n`);
console.log(
  '| entities | events | one digest run (Merkle + sign) | API digest check (48 digests) | offline verify of the export | offline events/s |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const entities of sizes) {
  const { events, heads } = catalog(entities);
  const digests: SignedDigest[] = [];
  let firstRun = 0;
  for (let d = 0; d < digestCount; d++) {
    const [digest, ms] = await timed(async () =>
      signDigest(
        nextDigest({
          previous: digests.at(-1),
          heads,
          now: new Date(Date.UTC(2026, 0, 2) + d * 3_600_000),
          publicKeyFingerprint: fingerprint,
        }),
        signer,
      ),
    );
    if (d === 0) firstRun = ms;
    digests.push(digest);
  }
  const entity = heads[0]?.entity ?? '';
  const own = events.filter((e) => e.entity === entity);
  const keys = new Map([[fingerprint, spki]]);
  const [, apiCheck] = await timed(() =>
    verifyEntity({
      entity,
      events: own,
      head: heads[0],
      current: own.at(-1)?.after ?? null,
      digests: { digests, publicKeys: keys },
    }),
  );
  const [verdict, offline] = await timed(() =>
    verifyExport({
      publicKeys: new Map([[fingerprint, { value: publicKeyPem(spki), where: 'key' }]]),
      digests: digests.map((value, i) => ({ value, where: `d${i}` })),
      events: events.map((value, i) => ({ value, where: `l${i}` })),
      heads: heads.map((value, i) => ({ value, where: `h${i}` })),
    }),
  );
  if (!verdict.intact) throw new Error(`benchmark export not intact: ${JSON.stringify(verdict.findings[0])}`);
  console.log(
    `| ${entities} | ${events.length} | ${firstRun.toFixed(1)} ms | ${apiCheck.toFixed(1)} ms | ${offline.toFixed(0)} ms | ${Math.round(events.length / (offline / 1000))} |`,
  );
}
