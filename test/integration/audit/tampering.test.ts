/**
 * An insider with write access to the tables (or the digest archive) tampers
 * with the audit log directly in DynamoDB Local; `/v1/audit/verify` reports
 * each tampering, in the layer that catches it, with where and why.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { chainEvent } from '#shared/audit/audit-chain';
import type { AuditEvent } from '#shared/audit/audit-event';
import { auditHeadPartition } from '#shared/store/audit-heads';
import { type AuditLab, createAuditLab } from './audit-lab.ts';

/** A team with `n` events (1 create, n-1 updates). */
async function teamWithEvents(lab: AuditLab, id: string, n: number) {
  for (let i = 0; i < n; i++) await lab.putTeam(id, `${id} v${i + 1}`);
}

const chain = (lab: AuditLab, entity: string) => lab.store.auditChain(entity as never);

const putEvent = (lab: AuditLab, event: AuditEvent) =>
  lab.client.send(new PutCommand({ TableName: lab.auditTable, Item: event }));

const deleteEvent = (lab: AuditLab, entity: string, seq: number) =>
  lab.client.send(new DeleteCommand({ TableName: lab.auditTable, Key: { entity, seq } }));

const setHead = (lab: AuditLab, event: AuditEvent) =>
  lab.client.send(
    new PutCommand({
      TableName: lab.catalogTable,
      Item: { pk: auditHeadPartition, sk: event.entity, seq: event.seq, hash: event.hash, at: event.at },
    }),
  );

/** Re-chains the events from `from` on after `edit` changed them, as an insider with the code would. */
async function rewriteFrom(
  lab: AuditLab,
  events: AuditEvent[],
  from: number,
  edit: (e: AuditEvent) => AuditEvent,
) {
  const rewritten = events.slice(0, from - 1);
  for (const event of events.slice(from - 1)) {
    const { hash: _h, prevHash: _p, seq: _s, ...fields } = event.seq === from ? edit(event) : event;
    const next = chainEvent(rewritten.at(-1), fields);
    rewritten.push(next);
    await putEvent(lab, next);
  }
  await setHead(lab, rewritten.at(-1) as AuditEvent);
  return rewritten;
}

describe('tampering with the audit log in the tables', () => {
  it('an event edited and the chain recomputed to the head: caught by the digests, located between two of them', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 2);
    await lab.digest();
    await teamWithEvents(lab, 'payments', 2);
    await lab.digest();
    const before = await lab.verify('team/payments');
    assert.equal(before.body.intact, true, JSON.stringify(before.body));

    const mallory = { iss: 'https://issuer.test', sub: 'mallory' };
    await rewriteFrom(lab, await chain(lab, 'team/payments'), 3, (e) => ({ ...e, actor: mallory }));
    const { status, body } = await lab.verify('team/payments');
    assert.equal(status, 200);
    assert.equal(body.intact, false);
    assert.equal(body.chain.intact, true, 'the chain was recomputed');
    assert.equal(body.head.intact, true, 'and the head moved with it');
    assert.equal(body.digests.intact, false);
    assert.deepEqual(body.digests.attested, { digest: 1, seq: 2 }, 'still proven up to event 2');
    assert.equal(body.digests.brokenSince.digest, 2);
    assert.equal(body.digests.brokenSince.seq, 4);
    assert.match(body.digests.brokenSince.reason, /event 4 hashes to .*, but was attested as .*rewritten/);
  });

  it('the newest event deleted: caught by the head; the next change does not reuse its seq', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 3);
    await deleteEvent(lab, 'team/payments', 3);
    const { body } = await lab.verify('team/payments');
    assert.equal(body.chain.intact, true);
    assert.deepEqual(body.head, {
      intact: false,
      seq: 3,
      reason: 'the log ends at event 2, the head is at 3: event 3 deleted',
    });
    await lab.putTeam('payments', 'after the truncation');
    assert.deepEqual(
      (await chain(lab, 'team/payments')).map((e) => e.seq),
      [1, 2, 4],
    );
  });

  it('every event of an entity deleted: a tamper report, not a 404', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 2);
    await Promise.all([1, 2].map((seq) => deleteEvent(lab, 'team/payments', seq)));
    const { status, body } = await lab.verify('team/payments');
    assert.equal(status, 200);
    assert.equal(body.intact, false);
    assert.equal(body.head.reason, 'the head is at event 2, but the log has no events: all were deleted');
  });

  it('a deleted entity whose events and head are all deleted: reported from the digests', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 2);
    await lab.deleteTeam('payments');
    await lab.digest();
    await Promise.all([1, 2, 3].map((seq) => deleteEvent(lab, 'team/payments', seq)));
    await lab.client.send(
      new DeleteCommand({
        TableName: lab.catalogTable,
        Key: { pk: auditHeadPartition, sk: 'team/payments' },
      }),
    );
    const { status, body } = await lab.verify('team/payments');
    assert.equal(status, 200);
    assert.equal(body.digests.intact, false);
    assert.deepEqual(body.digests.brokenSince, {
      digest: 1,
      seq: 3,
      reason: body.digests.brokenSince.reason,
    });
    assert.match(body.digests.brokenSince.reason, /event 3, attested with hash .*, is missing from the log/);
    assert.equal((await lab.verify('team/never-existed')).status, 404);
  });

  it("a forged event appended in another principal's name: caught by the head", async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 2);
    const [, last] = await chain(lab, 'team/payments');
    const { seq: _s, prevHash: _p, hash: _h, ...fields } = last as AuditEvent;
    const forged = chainEvent(last, {
      ...fields,
      actor: { iss: 'https://issuer.test', sub: 'alice' },
      requestId: 'forged',
    });
    await putEvent(lab, forged);
    const { body } = await lab.verify('team/payments');
    assert.equal(body.chain.intact, true, 'it chains correctly');
    assert.equal(body.head.reason, 'event 3 lies beyond the head: appended outside a catalog change');
  });

  it('the catalog item edited directly: caught by the head, naming the fields', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 1);
    await lab.client.send(
      new UpdateCommand({
        TableName: lab.catalogTable,
        Key: { pk: 'team', sk: 'payments' },
        UpdateExpression: 'SET doc.#n = :n',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': 'Taken over' },
      }),
    );
    const { body } = await lab.verify('team/payments');
    assert.equal(body.head.intact, false);
    assert.equal(
      body.head.reason,
      `the catalog item differs from event 1's "after" in name: edited outside the API`,
    );
  });

  it('two events swapped (seq reordered): caught by the chain at the first of them', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 3);
    const [, second, third] = await chain(lab, 'team/payments');
    await putEvent(lab, { ...(third as AuditEvent), seq: 2 });
    await putEvent(lab, { ...(second as AuditEvent), seq: 3 });
    const { body } = await lab.verify('team/payments');
    assert.equal(body.chain.intact, false);
    assert.equal(body.chain.brokenAt, 2);
    assert.match(body.chain.reason, /prevHash|hash does not match/);
    const stored = await lab.client.send(
      new GetCommand({ TableName: lab.auditTable, Key: { entity: 'team/payments', seq: 2 } }),
    );
    assert.equal(stored.Item?.requestId, 'req', 'the swap really happened');
  });
});

describe('tampering with the digest archive', () => {
  it('a digest file replaced: its signature fails, and the next digest no longer chains to it', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 2);
    const first = await lab.digest();
    await lab.digest();
    const [, olderFile] = readdirSync(join(lab.archiveDir, 'digests')).sort();
    const replaced = { ...first, heads: [] };
    writeFileSync(join(lab.archiveDir, 'digests', olderFile as string), JSON.stringify(replaced));
    const { body } = await lab.verify('team/payments');
    assert.equal(body.digests.intact, false);
    assert.deepEqual(body.digests.problems, [
      { number: 1, reason: 'signature does not verify: the digest was altered' },
      { number: 2, reason: 'previousDigestHash does not match digest 1: that digest was replaced' },
    ]);
  });

  it('a digest removed from the middle of the chain: reported as missing', async () => {
    const lab = await createAuditLab();
    await teamWithEvents(lab, 'payments', 1);
    for (let i = 0; i < 3; i++) await lab.digest();
    const files = readdirSync(join(lab.archiveDir, 'digests')).sort();
    rmSync(join(lab.archiveDir, 'digests', files[1] as string));
    const { body } = await lab.verify('team/payments');
    assert.equal(body.digests.intact, false);
    assert.equal(body.digests.problems[0].reason, 'digest 2 missing: digest 3 follows 1');
    const listed = await lab.get('/v1/audit/digests');
    assert.deepEqual(
      listed.body.items.map((d: { number: number }) => d.number),
      [3, 1],
    );
    assert.equal(Object.keys(listed.body.publicKeys).length, 1);
  });
});
