/**
 * `npm run bench:durability`: what the local stack loses when it is stopped or
 * killed under load. For each scenario a producer puts mixed records (JSON
 * lines, OTLP JSON and protobuf, CloudWatch Logs, garbage, unowned) on the input
 * stream, retrying every put until it is acknowledged, while the stack (started
 * as `npm start` does, in a process group of its own, on one state directory and
 * its ports) suffers the fault after `--fault-after` records and is started
 * again. Then both streams are read from their start.
 *
 *   --records <n>       records per scenario (default 20000)
 *   --fault-after <n>   acknowledged records before the fault (default 5000)
 *   --only <name>       one scenario: control, dynamodb, sigint, sigterm, kill-group, kill-all
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import {
  alive,
  freePorts,
  keysIn,
  localKinesisClient,
  missingFromOutput,
  type StackProcess,
  startStackProcess,
} from '../../test/support/local-stack-process.ts';
import { cloudWatchLogsPayload, sdkTraceRequest } from '../../test/support/telemetry-payloads.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    'fault-after': { type: 'string', default: '5000' },
    only: { type: 'string' },
  },
});
const total = Number(values.records);
const faultAfter = Number(values['fault-after']);

const payloads = [
  Buffer.from('{"service.name":"checkout","message":"a JSON line"}\n'),
  sdkTraceRequest({ 'service.name': 'checkout' }, 2, 'json'),
  sdkTraceRequest({ 'service.name': 'checkout' }, 2),
  cloudWatchLogsPayload('/aws/lambda/checkout', ['one', 'two']),
  Buffer.from('garbage \u0000 nobody decodes'),
  sdkTraceRequest({ 'service.name': 'nobody-owns-this' }, 1),
];

type Fault = (stack: StackProcess, restart: () => Promise<StackProcess>) => Promise<StackProcess>;
const group = (stack: StackProcess, signal: NodeJS.Signals) =>
  process.kill(-(stack.process.pid as number), signal);
const restartAfter =
  (signal: NodeJS.Signals, everyProcess = false): Fault =>
  async (stack, restart) => {
    const at = Date.now();
    group(stack, signal);
    if (everyProcess) for (const pid of stack.emulatorPids) if (alive(pid)) process.kill(pid, signal);
    await stack.exited;
    stopTimes.push(Date.now() - at);
    const next = await restart();
    const leftovers = next
      .output()
      .split('\n')
      .filter((line) => /emulators left|did not exit/.test(line));
    if (leftovers.length) console.error(leftovers.join('\n'));
    return next;
  };
const stopTimes: number[] = [];

const scenarios: Record<string, { label: string; fault?: Fault }> = {
  control: { label: 'no fault (control)' },
  dynamodb: {
    label: 'DynamoDB Local killed and restarted',
    fault: async (stack) => {
      const [dynamoPid] = stack.emulatorPids;
      process.kill(dynamoPid as number, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 2_000));
      const replacement = await startDynamoDbLocal({
        cacheDir: resolve('node_modules', '.cache', 'portolan'),
        port: Number(new URL(stack.state.dynamodb.endpoint).port),
        dataDir: join(stateDirOf.get(stack) as string, 'data', 'dynamodb'),
        credentials: stack.state.aws,
      });
      replacements.push(replacement.child);
      return stack;
    },
  },
  sigint: { label: 'Ctrl-C (SIGINT to the process group), then `npm start`', fault: restartAfter('SIGINT') },
  sigterm: { label: 'SIGTERM to the process group, then `npm start`', fault: restartAfter('SIGTERM') },
  'kill-group': {
    label: '`kill -9` of the process group, then `npm start`',
    fault: restartAfter('SIGKILL'),
  },
  'kill-all': {
    label: '`kill -9` of every process, emulators too, then `npm start`',
    fault: restartAfter('SIGKILL', true),
  },
};
const stateDirOf = new Map<StackProcess, string>();
const replacements: { stop(): Promise<void> }[] = [];

async function scenario(name: string) {
  const { label, fault } = scenarios[name] as { label: string; fault?: Fault };
  const stateDir = mkdtempSync(join(tmpdir(), `portolan-durability-${name}-`));
  const ports = await freePorts();
  const start = async () => {
    const stack = await startStackProcess(stateDir, ports, { detached: true });
    stateDirOf.set(stack, stateDir);
    return stack;
  };
  let stack = await start();
  // The same ports after every restart: one client, retrying, as a producer would.
  const client = localKinesisClient(stack.state);
  const acked = new Set<string>();
  let faulted = !fault;
  let faulting: Promise<void> | undefined;
  for (let sent = 0; sent < total; ) {
    const chunk = Array.from({ length: Math.min(500, total - sent) }, (_, i) => ({
      PartitionKey: `${name}-${sent + i}`,
      Data: payloads[(sent + i) % payloads.length] as Buffer,
    }));
    let pending = chunk;
    while (pending.length) {
      try {
        const result = await client.send(
          new PutRecordsCommand({ StreamName: stack.state.kinesis.inputStream, Records: pending }),
        );
        const refused = pending.filter((_, i) => result.Records?.[i]?.ErrorCode);
        for (const record of pending) if (!refused.includes(record)) acked.add(record.PartitionKey);
        pending = refused;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
      if (!faulted && acked.size >= faultAfter && fault) {
        faulted = true;
        faulting = fault(stack, start).then((next) => {
          stack = next;
        });
      }
    }
    sent += chunk.length;
  }
  await faulting;
  const input = await keysIn(client, stack.state.kinesis.inputStream);
  const missing = new Set(await missingFromOutput(stack.state, acked, 180_000));
  client.destroy();
  const neverInInput = [...acked].filter((key) => !input.has(key)).length;
  const inputNeverOut = [...acked].filter((key) => input.has(key) && missing.has(key)).length;
  const cameOut = acked.size - missing.size;
  group(stack, 'SIGINT');
  await stack.exited;
  for (const replacement of replacements.splice(0)) await replacement.stop();
  rmSync(stateDir, { recursive: true, force: true });
  return `| ${label} | ${acked.size} | ${cameOut} | ${missing.size} | ${neverInInput} | ${inputNeverOut} |`;
}

const names = values.only ? [values.only] : Object.keys(scenarios);
console.log(`${total} records per scenario, fault after ${faultAfter} acknowledged\n`);
console.log(
  '| what happened during the load | acked by the input stream | came out | lost | of which never in the input stream after restart | of which in the input but never out |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const name of names) console.log(await scenario(name));
if (stopTimes.length) console.log(`\nexit after the signal: ${stopTimes.map((ms) => `${ms} ms`).join(', ')}`);
