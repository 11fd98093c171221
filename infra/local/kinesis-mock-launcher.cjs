/**
 * Runs kinesis-mock (npm `kinesis-local`, Scala.js on Node) with what it cannot be configured to do:
 *  - listen on PORTOLAN_BIND_HOST (127.0.0.1) only: it listens on every interface otherwise;
 *  - write its state file to a temporary file and rename it, so that a crash during a write leaves
 *    the previous complete state instead of a truncated file;
 *  - survive the cancellation of a state write: its shutdown cancels a periodic write in progress
 *    by destroying the stream, whose pending disk write then fails with an 'error' event that
 *    nothing listens to (kinesis-mock removed every listener), which would crash it before its
 *    last write and lose everything acknowledged since the previous one;
 *  - exit with its parent however the parent dies: stdin is a pipe from the parent, and end of file
 *    on it means the parent is gone;
 *  - on SIGTERM/SIGINT, close its listeners and end open connections at once: its own shutdown
 *    (stop serving, then write the state file one last time) otherwise waits 30 s for idle
 *    keep-alive connections, longer than anyone waits for a Ctrl-C.
 */
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const host = process.env.PORTOLAN_BIND_HOST || '127.0.0.1';
const wildcard = new Set(['0.0.0.0', '::', '']);
const servers = new Set();
const sockets = new Set();

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnHost(...args) {
  servers.add(this);
  this.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const [first, second] = args;
  if (first && typeof first === 'object') args[0] = { ...first, host };
  else if (typeof second === 'string') {
    if (wildcard.has(second)) args[1] = host;
  } else args.splice(1, 0, host);
  return listen.apply(this, args);
};

const persistPath = process.env.PERSIST_PATH;
const stateFile = persistPath
  ? path.resolve(persistPath, process.env.PERSIST_FILE_NAME || 'kinesis-data.json')
  : undefined;
const createWriteStream = fs.createWriteStream;
let writes = 0;
fs.createWriteStream = function createStateFileAtomically(target, options) {
  if (!stateFile || typeof target !== 'string' || path.resolve(target) !== stateFile)
    return createWriteStream.call(this, target, options);
  // One temporary file per write: removing an abandoned write's file never touches another's.
  writes += 1;
  const temporary = `${stateFile}.${process.pid}.${writes}.tmp`;
  const stream = createWriteStream.call(this, temporary, options);
  // kinesis-mock removes every listener from the stream once it is open, so the rename hooks the
  // stream's own teardown, which runs synchronously after its last write is done ('finish').
  const destroy = stream._destroy;
  stream._destroy = function renameWhenComplete(error, callback) {
    // Every error of this stream is emitted after this teardown; kinesis-mock learns of a failed
    // write from the write's callback (and retries), and an abandoned write has nothing to report.
    if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
    try {
      if (!error && stream.writableFinished) fs.renameSync(temporary, stateFile);
      else fs.rmSync(temporary, { force: true });
    } catch (renameError) {
      process.stderr.write(`kinesis-mock launcher: state file not replaced: ${renameError.message}\n`);
    }
    return destroy.call(this, error, callback);
  };
  return stream;
};

const closeListeners = () => {
  for (const server of servers) server.close();
  // A half-close lets its connection handlers finish; a socket that stays open is cut later.
  for (const socket of sockets) {
    socket.end();
    setTimeout(() => socket.destroy(), 2_000).unref();
  }
};
process.once('SIGTERM', closeListeners);
process.once('SIGINT', closeListeners);

if (process.env.PORTOLAN_PARENT_PIPE === 'stdin') {
  process.stdin.on('error', () => undefined);
  process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
}

require(process.env.PORTOLAN_KINESIS_MOCK_MAIN);
