import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chainEvent } from '#shared/audit/audit-chain';
import { nextDigest, publicKeyFingerprint, publicKeyPem, signDigest } from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import { isFinding, type Located, parseDigest, parseEvents, parseHeads } from '#shared/audit/export-format';
import { makeLocalDigestSigner } from '#shared/audit/local-digest-signer';
import { verifyEntity } from '#shared/audit/verify-entity';
import { type ExportContents, verifyExport } from '#shared/audit/verify-export';

const signer = makeLocalDigestSigner(join(mkdtempSync(join(tmpdir(), 'portolan-export-')), 'key.pem'));
const actor = { iss: 'https://issuer.example', sub: 'ci' };

function eventsOf(entity: string, n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    events.push(
      chainEvent(events.at(-1), {
        entity,
        at: `2026-01-01T00:0${i}:00.000Z`,
        action: i === 0 ? 'create' : 'update',
        actor,
        requestId: `r${i}`,
        before: i === 0 ? null : { id: entity, version: i },
        after: { id: entity, version: i + 1 },
      }),
    );
  }
  return events;
}

const headOf = (events: AuditEvent[]): AuditHead => {
  const last = events.at(-1) as AuditEvent;
  return { entity: last.entity, seq: last.seq, hash: last.hash, at: last.at };
};

/** An export of two entities: digest 1 after 2 events each, digest 2 after 4 of team/a. */
async function anExport(): Promise<ExportContents> {
  const spki = await signer.publicKey();
  const fingerprint = publicKeyFingerprint(spki);
  const a = eventsOf('team/a', 4);
  const b = eventsOf('team/b', 2);
  const first = await signDigest(
    nextDigest({
      previous: undefined,
      heads: [headOf(a.slice(0, 2)), headOf(b)],
      now: new Date('2026-01-01T01:00:00.000Z'),
      publicKeyFingerprint: fingerprint,
    }),
    signer,
  );
  const second = await signDigest(
    nextDigest({
      previous: first,
      heads: [{ ...headOf(a), at: '2026-01-01T01:30:00.000Z' }, headOf(b)],
      now: new Date('2026-01-01T02:00:00.000Z'),
      publicKeyFingerprint: fingerprint,
    }),
    signer,
  );
  const events = [...a, ...b].map((value, i) => ({ value, where: `events.jsonl:${i + 1}` }));
  return {
    publicKeys: new Map([
      [fingerprint, { value: publicKeyPem(spki), where: `public-keys/${fingerprint}.pem` }],
    ]),
    digests: [first, second].map((value) => ({ value, where: `digests/${value.number}.json` })),
    events,
    heads: [headOf(a), headOf(b)].map((value, i) => ({ value, where: `heads.jsonl:${i + 1}` })),
  };
}

describe('offline export verification', () => {
  it('finds an untouched export intact, every event attested', async () => {
    const verdict = verifyExport(await anExport());
    assert.deepEqual(verdict.findings, []);
    assert.deepEqual(verdict.summary, {
      digests: 2,
      lastDigest: { number: 2, to: '2026-01-01T02:00:00.000Z' },
      entities: 2,
      events: 6,
      attestedEvents: 6,
    });
  });

  it('locates a rewritten event recomputed to the end, by the digest that attested it', async () => {
    const contents = await anExport();
    const a = contents.events.slice(0, 4).map((e) => e.value);
    const forged: AuditEvent[] = [a[0] as AuditEvent];
    for (const event of a.slice(1)) {
      const { hash: _h, prevHash: _p, seq: _s, ...fields } = event;
      forged.push(
        chainEvent(forged.at(-1), event.seq === 3 ? { ...fields, actor: { ...actor, sub: 'x' } } : fields),
      );
    }
    const events = contents.events.map((e, i) => (i < 4 ? { ...e, value: forged[i] as AuditEvent } : e));
    const heads = contents.heads.map((h, i) => (i === 0 ? { ...h, value: headOf(forged) } : h));
    const verdict = verifyExport({ ...contents, events, heads });
    assert.deepEqual(verdict.findings, [
      {
        where: 'digests/2.json ↔ events.jsonl:4',
        problem: `team/a: event 4 hashes to ${forged[3]?.hash.slice(0, 12)}…, but was attested as ${a[3]?.hash.slice(0, 12)}…: events up to 4 were rewritten`,
      },
    ]);
  });

  it('locates a digest signed by another key than the one the auditor brought', async () => {
    const other = makeLocalDigestSigner(join(mkdtempSync(join(tmpdir(), 'portolan-other-')), 'key.pem'));
    const verdict = verifyExport({
      ...(await anExport()),
      trustedPublicKey: publicKeyPem(await other.publicKey()),
    });
    assert.deepEqual(
      verdict.findings.map((f) => f.where),
      ['digests/1.json', 'digests/2.json'],
    );
  });

  it('reports an entity whose events are all gone, from the digests alone', async () => {
    const contents = await anExport();
    const verdict = verifyExport({
      ...contents,
      events: contents.events.filter((e) => e.value.entity !== 'team/b'),
      heads: contents.heads.filter((h) => h.value.entity !== 'team/b'),
    });
    assert.deepEqual(
      verdict.findings.map((f) => f.where),
      ['digests/1.json'],
    );
    assert.match(verdict.findings[0]?.problem ?? '', /^team\/b: all events deleted \(event 2, attested/);
  });
});

describe('entity verification', () => {
  it('names the fields of a catalog item edited outside the API', () => {
    const events = eventsOf('team/a', 2);
    const verdict = verifyEntity({
      entity: 'team/a',
      events,
      head: headOf(events),
      current: { id: 'team/a', version: 2, name: 'edited' },
    });
    assert.equal(verdict.intact, false);
    assert.deepEqual(verdict.head, {
      intact: false,
      seq: 2,
      reason: `the catalog item differs from event 2's "after" in name: edited outside the API`,
    });
  });
});

describe('export parsing of untrusted bytes', () => {
  it('never throws, and locates what it refuses', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          for (const parsed of [...parseEvents(text), ...parseHeads(text), parseDigest(text, 'd.json')]) {
            if (isFinding(parsed)) assert.match(parsed.where, /^(events\.jsonl|heads\.jsonl|d\.json)/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the line number of each event', async () => {
    const [first] = eventsOf('team/a', 1);
    const parsed = parseEvents(`\n${JSON.stringify(first)}\n{"seq":1}\n`);
    assert.equal((parsed[0] as Located<AuditEvent>).where, 'events.jsonl:2');
    assert.ok(isFinding(parsed[1] as never));
    assert.equal((parsed[1] as { where: string }).where, 'events.jsonl:3');
  });

  it('refuses a digest that is not one', () => {
    const parsed = parseDigest('{"format":"portolan-audit-digest/1","number":0}', 'digests/x.json');
    assert.ok(isFinding(parsed));
    const ok = parseDigest('[]', 'x');
    assert.ok(isFinding(ok));
  });
});
