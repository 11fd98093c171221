/**
 * The local stack keeps every acknowledged record across Ctrl-C, SIGTERM and
 * crashes. Each case runs `npm start` in its own process on one state directory
 * and the same ports, with a producer putting mixed records while the stack is
 * stopped (or killed) and started again, several times; then reads the streams.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type Acknowledged,
  alive,
  freePorts,
  keysIn,
  localKinesisClient,
  missingFromOutput,
  produce,
  type StackProcess,
  startStackProcess,
} from '../../support/local-stack-process.ts';
import { cloudWatchLogsPayload, sdkTraceRequest } from '../../support/telemetry-payloads.ts';

/** What a `kill -9` may lose: records acknowledged this long before it (kinesis-mock writes its state every second). */
export const crashLossBoundMs = 3_000;

const payloads = [
  sdkTraceRequest({ 'service.name': 'checkout' }, 1),
  Buffer.from('{"service.name":"checkout","message":"a JSON line"}\n'),
  cloudWatchLogsPayload('/aws/lambda/checkout', ['one line']),
  Buffer.from('garbage \u0000 nobody decodes'),
  sdkTraceRequest({ 'service.name': 'nobody-owns-this' }, 1),
];
const payload = (i: number) => payloads[i % payloads.length] as Buffer;

const dirs: string[] = [];
const running: StackProcess[] = [];
after(async () => {
  for (const stack of running) {
    for (const pid of [stack.process.pid, ...stack.emulatorPids])
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(stateDir: string, ports: NodeJS.ProcessEnv) {
  const stack = await startStackProcess(stateDir, ports);
  running.push(stack);
  return stack;
}

/** Puts records until `ackedBeforeFault` are acknowledged, then `fault`, and keeps putting until the stack is gone. */
async function cycle(
  stack: StackProcess,
  acked: Acknowledged,
  label: string,
  fault: (stack: StackProcess) => void,
  ackedBeforeFault = 600,
) {
  const client = localKinesisClient(stack.state);
  const before = acked.size;
  const producer = produce(client, stack.state.kinesis.inputStream, label, acked, payload);
  while (acked.size - before < ackedBeforeFault) await new Promise((r) => setTimeout(r, 20));
  const faultAt = Date.now();
  fault(stack);
  await stack.exited;
  const stopMs = Date.now() - faultAt;
  await producer.stop();
  client.destroy();
  return { faultAt, stopMs };
}

const killMain = (s: StackProcess) => s.process.kill('SIGKILL');
const killAll = (s: StackProcess) => {
  for (const pid of [...s.emulatorPids, s.process.pid as number]) process.kill(pid, 'SIGKILL');
};

describe('local stack durability', { timeout: 240_000 }, () => {
  it('Ctrl-C, SIGTERM and kill -9 under load, in turn on one state directory and its ports: graceful stops lose nothing, crashes only the unpersisted last moment, and everything in the input comes out', async (t) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'portolan-durable-'));
    dirs.push(stateDir);
    const ports = await freePorts();
    const run = randomUUID().slice(0, 8);
    const gracefully: Acknowledged = new Map();
    const crashed: Acknowledged = new Map();
    const crashes: number[] = [];
    const faults = [
      { name: 'SIGINT', fault: (s: StackProcess) => s.process.kill('SIGINT'), graceful: true },
      // Every process of the stack at once: kinesis-mock loses what it had not written yet.
      { name: 'kill -9 of every process', fault: killAll, graceful: false },
      { name: 'SIGTERM', fault: (s: StackProcess) => s.process.kill('SIGTERM'), graceful: true },
      // The main process alone: its emulators notice, stop (writing their state), and free the ports.
      { name: 'kill -9 of the main process', fault: killMain, graceful: false },
    ];
    for (const [i, { name, fault, graceful }] of faults.entries()) {
      const stack = await start(stateDir, ports);
      const acked = graceful ? gracefully : crashed;
      const { faultAt, stopMs } = await cycle(stack, acked, `${run}-${i}`, fault);
      t.diagnostic(`${name}: exited in ${stopMs} ms`);
      if (graceful) assert.equal(stack.process.exitCode, 0, stack.output());
      else crashes.push(faultAt);
      const deadline = Date.now() + 15_000;
      while (stack.emulatorPids.some(alive) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(stack.emulatorPids.filter(alive), [], `emulators outlived the stack (${name})`);
    }
    const last = await start(stateDir, ports);
    try {
      const client = localKinesisClient(last.state);
      const input = await keysIn(client, last.state.kinesis.inputStream);
      client.destroy();
      const lostGracefully = [...gracefully.keys()].filter((key) => !input.has(key));
      assert.deepEqual(
        lostGracefully.slice(0, 10),
        [],
        `${lostGracefully.length} records lost by graceful stops`,
      );
      const unpersisted = [...crashed].filter(([key]) => !input.has(key));
      t.diagnostic(
        `${gracefully.size + crashed.size} acknowledged; ${unpersisted.length} of the ${crashed.size} put around crashes not in the input after restart`,
      );
      const late = unpersisted.filter(
        // (An acknowledgement can be read a moment after the kill that cut its connection.)
        ([, ackedAt]) =>
          !crashes.some((crash) => ackedAt - crash <= 500 && crash - ackedAt <= crashLossBoundMs),
      );
      assert.deepEqual(late.slice(0, 10), [], 'a crash lost records acknowledged long before it');
      const inInput = [...gracefully.keys(), ...crashed.keys()].filter((key) => input.has(key));
      const missing = await missingFromOutput(last.state, inInput);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} records in the input never came out`);
    } finally {
      last.process.kill('SIGINT');
      await last.exited;
    }
  });
});
