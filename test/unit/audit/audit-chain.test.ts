import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainEvent, genesisHash, hashEvent, verifyChain } from '#shared/audit/audit-chain';
import type { AuditEvent } from '#shared/audit/audit-event';

const actor = { iss: 'https://issuer.example', sub: 'ci' };

function chainOf(n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    events.push(
      chainEvent(events.at(-1), {
        entity: 'service/checkout',
        at: `2026-01-01T00:00:0${i}.000Z`,
        action: i === 0 ? 'create' : 'update',
        actor,
        requestId: `req-${i}`,
        before: i === 0 ? null : { id: 'checkout', version: i },
        after: { id: 'checkout', version: i + 1 },
      }),
    );
  }
  return events;
}

describe('audit hash chain', () => {
  it('numbers events from 1 and links the first to the genesis hash', () => {
    const [first, second] = chainOf(2);
    assert.equal(first?.seq, 1);
    assert.equal(first?.prevHash, genesisHash);
    assert.equal(second?.seq, 2);
    assert.equal(second?.prevHash, first?.hash);
  });

  it('hashes the canonical form, so key order does not matter', () => {
    const [event] = chainOf(1);
    assert.ok(event);
    const { hash, ...rest } = event;
    const reordered = Object.fromEntries(Object.entries(rest).reverse()) as typeof rest;
    assert.equal(hashEvent(reordered), hash);
    assert.match(hash, /^[0-9a-f]{64}$/);
  });

  it('verifies an untouched chain as intact with its length', () => {
    assert.deepEqual(verifyChain(chainOf(5)), { intact: true, events: 5 });
  });

  it('reports the first event whose content was edited', () => {
    const events = chainOf(5);
    events[2] = { ...(events[2] as AuditEvent), actor: { iss: 'https://issuer.example', sub: 'mallory' } };
    const verdict = verifyChain(events);
    assert.equal(verdict.intact, false);
    assert.equal(verdict.intact === false && verdict.brokenAt, 3);
    assert.match(verdict.intact === false ? verdict.reason : '', /hash does not match/);
  });

  it('detects a removed event and a re-hashed forgery that does not link', () => {
    const events = chainOf(4);
    const removed = [events[0], events[2], events[3]] as AuditEvent[];
    assert.equal(verifyChain(removed).intact, false);

    const forged = chainOf(4);
    const { hash: _old, ...unhashed } = {
      ...(forged[1] as AuditEvent),
      after: { id: 'checkout', version: 99 },
    };
    forged[1] = { ...unhashed, hash: hashEvent(unhashed) };
    const verdict = verifyChain(forged);
    assert.equal(verdict.intact === false && verdict.brokenAt, 3);
  });
});
