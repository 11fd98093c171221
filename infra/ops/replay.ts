/**
 * `npm run replay`: puts batches that exhausted their retries back on the input stream.
 *
 *   npm run replay -- --queue-url <on-failure queue URL> [--to <stream>]   (deployed stack)
 *   npm run replay -- [--file .portolan/failed-batches.jsonl] [--to <stream>]  (local stack)
 *   npm run replay -- --stream <quarantine stream> --to <stream> [--since <ISO time>]
 *
 * From the queue, each message is deleted once its batch is replayed; from a
 * file, replayed lines move to `<file>.replayed`. A failure stops the run and
 * leaves what was not replayed where it was, so running it again finishes the job.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localKinesisClient, readLocalState } from '#infra/local/local-state';
import { batchInfoOf, replayBatch, replayStream } from '#infra/ops/replay-failed-batches';
import { createKinesisClient } from '#shared/aws/kinesis-client';

const usage = [
  'usage: npm run replay -- (--queue-url <url> | --file <failed-batches.jsonl>) [--to <stream>]',
  '       npm run replay -- --stream <quarantine stream> --to <stream> [--since <ISO time>]',
].join('\n');

async function main() {
  const { values } = parseArgs({
    options: {
      'queue-url': { type: 'string' },
      file: { type: 'string' },
      to: { type: 'string' },
      stream: { type: 'string' },
      since: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return console.log(usage);
  if (values.stream) return fromStream(values.stream, values.to, values.since);
  if (values['queue-url']) return fromQueue(values['queue-url'], values.to);
  return fromFile(values.file ?? '.portolan/failed-batches.jsonl', values.to);
}

async function fromQueue(queueUrl: string, to: string | undefined) {
  const sqs = new SQSClient({});
  const kinesis = createKinesisClient();
  let batches = 0;
  let records = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      records += await replayBatch(kinesis, batchInfoOf(message.Body ?? ''), to);
      batches++;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  console.log(`replayed ${records} records from ${batches} batches`);
}

/** The quarantine stream (or any stream) onto another: the deployed one, or the local stack's. */
async function fromStream(stream: string, to: string | undefined, since: string | undefined) {
  if (!to) throw new Error('--to <stream> is required with --stream');
  const from = since === undefined ? undefined : new Date(since);
  if (from && Number.isNaN(from.getTime())) throw new Error(`--since ${since}: not a date`);
  const local = readLocalState();
  const kinesis = local ? localKinesisClient(local) : createKinesisClient();
  const records = await replayStream(kinesis, stream, to, from);
  console.log(`replayed ${records} records from ${stream} to ${to}`);
}

async function fromFile(file: string, to: string | undefined) {
  if (!existsSync(file)) throw new Error(`${file} does not exist: no batch has exhausted its retries`);
  // The local stack's emulator, when one is running here; else the default AWS configuration.
  const local = readLocalState();
  const kinesis = local ? localKinesisClient(local) : createKinesisClient();
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  let records = 0;
  for (const [i, line] of lines.entries()) {
    const info = batchInfoOf(line);
    try {
      records += await replayBatch(kinesis, info, to);
    } catch (error) {
      writeFileSync(
        file,
        lines
          .slice(i)
          .map((l) => `${l}\n`)
          .join(''),
      );
      throw error;
    }
    appendFileSync(`${file}.replayed`, `${line}\n`);
  }
  writeFileSync(file, '');
  console.log(`replayed ${records} records from ${lines.length} batches`);
}

main().catch((error: Error) => {
  console.error(`replay: ${error.message}`);
  console.error(usage);
  process.exit(1);
});
