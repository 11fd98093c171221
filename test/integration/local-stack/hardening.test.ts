/**
 * The local stack on a state directory a crash left behind (an empty
 * `kinesis-data.json`), and what it exposes to the network: every socket it and
 * its emulators listen on, read from /proc (Linux), must be on loopback.
 */
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { prepareStateFile } from '#infra/local/kinesis-mock';
import { type RunningLocalStack, startLocalStack } from '#infra/local/local-stack';
import { collect, kinesisFor, putRecords } from '../../support/kinesis-streams.ts';

const dirs: string[] = [];
const stacks: RunningLocalStack[] = [];
after(async () => {
  for (const stack of stacks) await stack.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const freePorts = Object.fromEntries(
  ['API', 'ISSUER', 'DYNAMODB', 'KINESIS', 'KINESIS_TLS'].map((name) => [`PORTOLAN_${name}_PORT`, '0']),
);

/** The local addresses a process listens on (TCP, IPv4 and IPv6), as /proc shows them. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.add(match[1] as string);
    } catch {
      // Closed while listing.
    }
  }
  const addresses: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local address, state (0A = LISTEN), inode
      if (fields[3] === '0A' && inodes.has(fields[9] as string)) addresses.push(decode(fields[1] as string));
    }
  }
  return addresses;
}

/** /proc's hex address:port, little-endian per 32-bit word, as text. */
function decode(hexAddress: string): string {
  const [hex, port] = hexAddress.split(':') as [string, string];
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
  );
  const address =
    bytes.length === 4
      ? bytes.join('.')
      : bytes.slice(0, 12).every((b, i) => b === (i >= 10 ? 255 : 0))
        ? `::ffff:${bytes.slice(12).join('.')}`
        : Array.from({ length: 8 }, (_, i) =>
            (((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number)).toString(16),
          ).join(':');
  return `${address}:${Number.parseInt(port, 16)}`;
}

const loopback = /^(127\.\d+\.\d+\.\d+|::ffff:127\.\d+\.\d+\.\d+|0:0:0:0:0:0:0:1):\d+$/;

describe('local stack hardening', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  it('starts on an unreadable kinesis-mock state file, keeping it aside with a message, and listens on loopback only', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'portolan-hardening-'));
    dirs.push(stateDir);
    const kinesisDir = join(stateDir, 'data', 'kinesis');
    mkdirSync(kinesisDir, { recursive: true });
    // What a kill during kinesis-mock's own (non-atomic) write used to leave.
    writeFileSync(join(kinesisDir, 'kinesis-data.json'), '');
    const lines: string[] = [];
    const stack = await startLocalStack({
      stateDir,
      seed: false,
      env: { ...process.env, ...freePorts },
      log: (line) => lines.push(line),
    });
    stacks.push(stack);

    const message = lines.find((line) => line.includes('unreadable'));
    assert.ok(message, lines.join('\n'));
    assert.match(message, /kept aside as .*kinesis-data\.json\.unreadable-/);
    assert.match(message, /lost/);
    const aside = readdirSync(kinesisDir).filter((name) => name.includes('.unreadable-'));
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(join(kinesisDir, aside[0] as string), 'utf8'), '', 'kept as it was');

    // The streams work: a record goes in and comes out enriched.
    const kinesis = kinesisFor(stack.state);
    await putRecords(kinesis, stack.state.kinesis.inputStream, [
      { partitionKey: 'after-recovery', data: Buffer.from('{"service.name":"x"}\n') },
    ]);
    const out = await collect(kinesis, stack.state.kinesis.outputStream, {
      keep: (r) => r.PartitionKey === 'after-recovery',
      done: (kept) => kept.length > 0,
    });
    assert.equal(out.length, 1);

    const addresses = [process.pid, ...stack.childPids].flatMap((pid) =>
      listeningAddresses(pid).map((address) => `${pid} ${address}`),
    );
    for (const port of Object.values(stack.ports))
      assert.ok(
        addresses.some((entry) => entry.endsWith(`:${port}`)),
        `nothing found listening on ${port}: ${addresses.join(', ')}`,
      );
    const exposed = addresses.filter((entry) => !loopback.test(entry.split(' ')[1] as string));
    assert.deepEqual(exposed, [], 'listening beyond loopback');
  });

  it("warns when kinesis-mock's state grows past its cap, naming the way out", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portolan-state-cap-'));
    dirs.push(dataDir);
    writeFileSync(
      join(dataDir, 'kinesis-data.json'),
      JSON.stringify({ streams: {}, padding: 'x'.repeat(2048) }),
    );
    const lines: string[] = [];
    prepareStateFile(dataDir, (line) => lines.push(line), 1024);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] as string, /warning above .*--reset-streams/);
    prepareStateFile(dataDir, (line) => lines.push(line), 1024 * 1024);
    assert.equal(lines.length, 1, 'no warning under the cap');
  });
});
