import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { genesisHash } from '#shared/audit/audit-chain';
import {
  checkDigestLinks,
  commitLagMs,
  digestHash,
  foldDigests,
  nextDigest,
  publicKeyFingerprint,
  type SignedDigest,
  signDigest,
  signingInput,
} from '#shared/audit/audit-digest';
import type { AuditHead } from '#shared/audit/audit-head';
import { digestPage } from '#shared/audit/digest-archive';
import { makeLocalDigestSigner } from '#shared/audit/local-digest-signer';
import { makeLocalDigestStore } from '#shared/audit/local-digest-store';
import { merkleRoot } from '#shared/audit/merkle-tree';
import { writeDigest } from '#shared/audit/write-digest';

const keyFile = join(mkdtempSync(join(tmpdir(), 'portolan-digest-')), 'key.pem');
const signer = makeLocalDigestSigner(keyFile);

const head = (entity: string, seq: number, at: string): AuditHead => ({
  entity,
  seq,
  hash: `${seq}`.padStart(64, 'a'),
  at,
});

async function chainOf(
  steps: AuditHead[][],
): Promise<{ digests: SignedDigest[]; keys: Map<string, Buffer> }> {
  const spki = await signer.publicKey();
  const fingerprint = publicKeyFingerprint(spki);
  const digests: SignedDigest[] = [];
  for (const [i, heads] of steps.entries()) {
    const unsigned = nextDigest({
      previous: digests.at(-1),
      heads,
      now: new Date(Date.UTC(2026, 0, 1, i + 1)),
      publicKeyFingerprint: fingerprint,
    });
    digests.push(await signDigest(unsigned, signer));
  }
  return { digests, keys: new Map([[fingerprint, spki]]) };
}

describe('Merkle root over heads', () => {
  it('depends on the heads, not their order, and changes with any head', () => {
    const heads = ['team/a', 'team/b', 'service/c'].map((e, i) => head(e, i + 1, '2026-01-01T00:00:00.000Z'));
    assert.equal(merkleRoot(heads), merkleRoot([...heads].reverse()));
    assert.notEqual(merkleRoot(heads), merkleRoot([...heads.slice(0, 2), { ...head('service/c', 4, '') }]));
    assert.notEqual(merkleRoot(heads), merkleRoot(heads.slice(0, 2)));
    assert.match(merkleRoot([]), /^[0-9a-f]{64}$/);
  });
});

describe('local digest signer', () => {
  it('keeps its key in a 0600 file and signs with DER ECDSA P-256 over SHA-256, as KMS does', async () => {
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const again = makeLocalDigestSigner(keyFile);
    assert.deepEqual(await again.publicKey(), await signer.publicKey(), 'the key is reused, not regenerated');
    const message = Buffer.from('digest');
    const signature = await signer.sign(message);
    assert.equal(signature[0], 0x30, 'a DER SEQUENCE');
    const key = createPublicKey({ key: await signer.publicKey(), format: 'der', type: 'spki' });
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(verify('sha256', message, key, signature));
    assert.match(readFileSync(keyFile, 'utf8'), /BEGIN PRIVATE KEY/);
  });
});

describe('digests', () => {
  it('list the heads that moved since the previous digest and sign the root over all of them', async () => {
    const t0 = '2026-01-01T00:10:00.000Z';
    const late = new Date(Date.UTC(2026, 0, 1, 1) + 30 * 60_000).toISOString();
    const { digests, keys } = await chainOf([
      [head('team/a', 1, t0), head('team/b', 1, t0)],
      [head('team/a', 1, t0), head('team/b', 2, late)],
    ]);
    const [first, second] = digests as [SignedDigest, SignedDigest];
    assert.deepEqual(
      first.heads.map((h) => h.entity),
      ['team/a', 'team/b'],
    );
    assert.equal(first.previousDigestHash, genesisHash);
    assert.deepEqual(second.heads, [{ entity: 'team/b', seq: 2, hash: head('team/b', 2, '').hash }]);
    assert.equal(second.previousDigestHash, digestHash(first));
    assert.equal(second.from, first.to);
    assert.deepEqual(checkDigestLinks(digests, keys), []);
    assert.deepEqual(foldDigests(digests).problems, []);
  });

  it('lists again a head dated within the commit lag before the previous digest', async () => {
    const justBefore = new Date(Date.UTC(2026, 0, 1, 1) - commitLagMs / 2).toISOString();
    const { digests } = await chainOf([[head('team/a', 1, justBefore)], [head('team/a', 1, justBefore)]]);
    assert.equal(digests[1]?.heads.length, 1);
  });

  it('reports an altered digest, a replaced one and a missing one, each by number', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const { digests, keys } = await chainOf([[head('team/a', 1, at)], [], [], []]);
    const altered = digests.map((d) => ({ ...d }));
    (altered[1] as SignedDigest).headCount = 7;
    assert.deepEqual(checkDigestLinks(altered, keys), [
      { number: 2, reason: 'signature does not verify: the digest was altered' },
      { number: 3, reason: 'previousDigestHash does not match digest 2: that digest was replaced' },
    ]);
    const gap = [digests[0], digests[2], digests[3]] as SignedDigest[];
    assert.deepEqual(
      checkDigestLinks(gap, keys).map((p) => p.reason),
      [
        'digest 2 missing: digest 3 follows 1',
        `period starts ${digests[2]?.from}, but digest 1 ended ${digests[0]?.to}`,
      ],
    );
    assert.deepEqual(checkDigestLinks(digests, new Map()).length, 4, 'an unpublished key verifies nothing');
  });

  it('does not add up when a digest leaves out a head that moved', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const { digests } = await chainOf([
      [head('team/a', 1, at)],
      [head('team/a', 1, at), head('team/b', 1, at)],
    ]);
    const second = { ...(digests[1] as SignedDigest), heads: [] };
    assert.deepEqual(
      foldDigests([digests[0] as SignedDigest, second]).problems.map((p) => p.number),
      [2],
    );
  });

  it('signs the canonical form without the signature', async () => {
    const { digests } = await chainOf([[]]);
    const digest = digests[0] as SignedDigest;
    const { signature: _s, ...unsigned } = digest;
    assert.deepEqual(signingInput(digest), signingInput(unsigned as never));
    assert.ok(!signingInput(digest).toString().includes('"signature":'));
  });
});

describe('digest runs', () => {
  it('two concurrent runs never fork the chain: the loser chains after the winner', async () => {
    const store = makeLocalDigestStore(mkdtempSync(join(tmpdir(), 'portolan-archive-')));
    const heads = async () => [head('team/a', 1, '2026-01-01T00:00:00.000Z')];
    const written = await Promise.all([
      writeDigest({ heads, store, signer }),
      writeDigest({ heads, store, signer }),
    ]);
    assert.deepEqual(written.map((d) => d?.number).sort(), [1, 2]);
    const { digests } = await digestPage(store, { limit: 10 });
    assert.deepEqual(
      digests.map((d) => d.number),
      [2, 1],
    );
    const keys = new Map([[publicKeyFingerprint(await signer.publicKey()), await signer.publicKey()]]);
    assert.deepEqual(checkDigestLinks([...digests].reverse(), keys), []);
    assert.equal(
      await store.createObject('digests/9999999998.json', '{}'),
      false,
      'an existing digest is never replaced',
    );
  });
});
