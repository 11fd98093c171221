/**
 * `portolan audit export` against the local stack, then `portolan audit verify
 * --all` offline on the files: an untouched export verifies, with or without
 * the public key brought separately; a tampered copy fails at the exact line or
 * file. Digests are written on demand with the stack's own archive and key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeLocalDigestSigner } from '#shared/audit/local-digest-signer';
import { makeLocalDigestStore } from '#shared/audit/local-digest-store';
import { writeDigest } from '#shared/audit/write-digest';
import { allAuditHeads } from '#shared/store/audit-heads';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { mintToken } from '../../support/local-stack.ts';
import { call, state, teamDoc, token, unique } from '../api/api-client.ts';

const stateDir = dirname(process.env.PORTOLAN_LOCAL_STATE ?? '');
const keyFile = join(stateDir, 'audit-digest-key.pem');

/** A digest now, as the stack's scheduled digest function would write it. */
async function digestNow() {
  const client = createDocumentClient(
    new DynamoDBClient({ endpoint: state.dynamodb.endpoint, region: state.region, credentials: state.aws }),
  );
  const written = await writeDigest({
    heads: () => allAuditHeads(client, state.dynamodb.tables.catalog),
    store: makeLocalDigestStore(join(stateDir, 'audit-digests')),
    signer: makeLocalDigestSigner(keyFile),
  });
  client.destroy();
  return written;
}

async function portolan(args: string[], bearer?: string) {
  const result = spawnSync(process.execPath, ['bin/portolan.js', ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      PORTOLAN_API_URL: state.apiUrl,
      PORTOLAN_TOKEN: bearer ?? (await token('admin')),
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('audit export, verified offline', () => {
  it('verifies an untouched export; a tampered copy fails at the exact line and file', async () => {
    const id = unique('team');
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id) });
    await digestNow();
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, 'renamed') });
    await digestNow();
    await digestNow();
    await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, 'after the last digest') });

    const online = await portolan(['audit', `team/${id}`, '--verify']);
    assert.equal(online.code, 0, online.stderr);
    // Event 3 is attested too if the stack's own scheduled digest ran in between.
    assert.match(
      online.stdout,
      new RegExp(
        `team/${id}: intact \\(3 events\\)\\n  chain:   intact\\n  head:    intact at event 3\\n  digests: intact: attested up to event (2 by digest \\d+; 1 event\\(s\\) since|3 by digest \\d+)$`,
        'm',
      ),
    );

    const dir = join(mkdtempSync(join(tmpdir(), 'portolan-export-')), 'export');
    const exported = await portolan(['audit', 'export', '--dir', dir]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /exported \d+ digests, \d+ entities, \d+ events/);

    const verified = await portolan(['audit', 'verify', '--all', '--dir', dir]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /audit log intact/);
    const publicKey = join(dirname(dir), 'kms-public-key.pem');
    writeFileSync(
      publicKey,
      createPublicKey(readFileSync(keyFile, 'utf8')).export({ type: 'spki', format: 'pem' }),
    );
    assert.equal(
      (await portolan(['audit', 'verify', '--all', '--dir', dir, '--public-key', publicKey])).code,
      0,
    );

    // An event edited in the export: the line that no longer hashes is named.
    const edited = join(dirname(dir), 'edited');
    cpSync(dir, edited, { recursive: true });
    const lines = readFileSync(join(edited, 'events.jsonl'), 'utf8').split('\n');
    const index = lines.findIndex(
      (line) => line.includes(`"entity":"team/${id}"`) && line.includes('"seq":1,'),
    );
    assert.ok(index >= 0);
    lines[index] = (lines[index] as string).replace('"sub":"', '"sub":"mallory-');
    writeFileSync(join(edited, 'events.jsonl'), lines.join('\n'));
    const refused = await portolan(['audit', 'verify', '--all', '--dir', edited]);
    assert.equal(refused.code, 1);
    assert.ok(
      refused.stdout.includes(
        `events.jsonl:${index + 1}: team/${id} event 1: hash does not match the event's content`,
      ),
      refused.stdout,
    );
    assert.match(refused.stdout, /audit log NOT intact/);

    // A digest removed from the middle of the chain: the next one names the gap.
    const gap = join(dirname(dir), 'gap');
    cpSync(dir, gap, { recursive: true });
    const digests = readdirSync(join(gap, 'digests')).sort();
    assert.ok(digests.length >= 3);
    rmSync(join(gap, 'digests', digests[1] as string));
    const missing = await portolan(['audit', 'verify', '--all', '--dir', gap, '--output', 'json']);
    assert.equal(missing.code, 1);
    const verdict = JSON.parse(missing.stdout);
    const gapFinding = verdict.findings.find((f: { problem: string }) => /missing: digest/.test(f.problem));
    assert.equal(gapFinding.where, `digests/${digests[0]}`, 'the digest after the gap is named');

    // A digest file replaced: its signature fails.
    const forged = join(dirname(dir), 'forged');
    cpSync(dir, forged, { recursive: true });
    const file = join(forged, 'digests', digests[0] as string);
    const digest = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...digest, heads: [] }));
    const replaced = await portolan(['audit', 'verify', '--all', '--dir', forged]);
    assert.equal(replaced.code, 1);
    assert.ok(
      replaced.stdout.includes(`digests/${digests[0]}: signature does not verify: the digest was altered`),
      replaced.stdout,
    );
  });

  it("exports for an auditor with audit.read and policy:GetPolicy; audit.read alone stops at a policy's events", async () => {
    const auditor = unique('auditor');
    const policy = unique('auditor-reads-policies');
    const granted = await call('PUT', `/v1/policies/${policy}`, {
      body: {
        principal: { sub: auditor },
        statements: [
          { sid: 'ReadPolicies', effect: 'allow', actions: ['policy:GetPolicy'], resources: ['policy/*'] },
        ],
      },
    });
    assert.equal(granted.status, 201, JSON.stringify(granted.body));
    const auditRead = (sub: string) =>
      mintToken(state, { sub, client_id: sub, scope: 'portolan/audit.read' });

    const dir = join(mkdtempSync(join(tmpdir(), 'portolan-export-')), 'export');
    const exported = await portolan(['audit', 'export', '--dir', dir], auditRead(auditor));
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(readFileSync(join(dir, 'events.jsonl'), 'utf8').includes(`"entity":"policy/${policy}"`));

    const refused = await portolan(['audit', 'export', '--dir', `${dir}-2`], auditRead(unique('reader')));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /403.*policy:GetPolicy on policy\//);
  });

  it('refuses verify without --all, and says how to make an export when there is none', async () => {
    assert.equal((await portolan(['audit', 'verify'])).code, 1);
    const none = await portolan(['audit', 'verify', '--all', '--dir', join(tmpdir(), 'no-such-export')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no audit export in .*portolan audit export --dir/);
  });
});
