/**
 * A port on the Fetch standard's blocked list would start the stack and then
 * fail its own seeding with only "fetch failed": `npm start` refuses it at once,
 * naming the variable and why, before starting anything.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { claimPort, fetchBlockedPorts } from '#infra/local/ports';

const stateDir = mkdtempSync(join(tmpdir(), 'portolan-bad-port-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

describe('local stack ports', () => {
  it('npm start with PORTOLAN_API_PORT=6000 exits 1 naming the variable and the reason, having started nothing', () => {
    const started = Date.now();
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'infra/local/start.ts', '--in-memory', '--no-seed', '--state-dir', stateDir],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, PORTOLAN_API_PORT: '6000', PORTOLAN_ISSUER_PORT: '0' },
      },
    );
    assert.equal(result.status, 1, result.stderr);
    assert.match(
      result.stderr,
      /^portolan: PORTOLAN_API_PORT=6000: port 6000 is on the Fetch standard's list of blocked \("bad"\) ports, which Node's fetch \(the demo seeding, the CLI\) and browsers refuse/m,
    );
    assert.doesNotMatch(result.stderr, /fetch failed/);
    assert.deepEqual(readdirSync(stateDir), [], 'nothing started or written');
    assert.ok(Date.now() - started < 30_000);
  });

  it('refuses every port that fetch refuses, and only those', async () => {
    for (const port of [6000, 6666, 10080, 1, 22])
      await assert.rejects(
        claimPort({ variable: 'SOME_PORT', fallback: 0 }, { SOME_PORT: String(port) }),
        /SOME_PORT=/,
      );
    for (const port of fetchBlockedPorts) {
      const refused = await fetch(`http://127.0.0.1:${port}`).then(
        () => undefined,
        (error: Error) => (error.cause as Error | undefined)?.message,
      );
      assert.equal(refused, 'bad port', `fetch refuses ${port}`);
    }
    // The defaults and OS-chosen ports are not on the list.
    for (const port of [4000, 4001, 4002, 4003, 4004]) assert.equal(fetchBlockedPorts.has(port), false);
    assert.ok(
      [...fetchBlockedPorts].every((port) => port < 32_768),
      'the ephemeral range is clear',
    );
  });
});
