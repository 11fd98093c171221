/**
 * `npm start`: runs the local stack until Ctrl-C.
 *   --in-memory        keep no data between runs
 *   --no-seed          start with an empty catalog
 *   --state-dir <dir>  where local.json, keys and data live (default .portolan)
 *   --reset-streams    keep the streams' state aside and start them empty
 */
import { parseArgs } from 'node:util';
import { startLocalStack } from '#infra/local/local-stack';
import { PortInUse } from '#infra/local/ports';

const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    'no-seed': { type: 'boolean', default: false },
    'state-dir': { type: 'string', default: '.portolan' },
    'reset-streams': { type: 'boolean', default: false },
  },
});

const started = Date.now();
try {
  const stack = await startLocalStack({
    stateDir: values['state-dir'],
    inMemory: values['in-memory'],
    seed: !values['no-seed'],
    resetStreams: values['reset-streams'],
    log: (line) => console.log(`portolan: ${line}`),
  });
  const { state } = stack;
  console.log(`
Portolan local stack is up (${((Date.now() - started) / 1000).toFixed(1)}s)${values['in-memory'] ? ', in memory' : ''}
  API        ${state.apiUrl}
  issuer     ${state.issuer}   (dev CA: ${state.caFile})
  token URL  ${state.tokenUrl}
  DynamoDB   ${state.dynamodb.endpoint}   tables ${state.dynamodb.tables.catalog}, ${state.dynamodb.tables.audit}
  Kinesis    ${state.kinesis.endpoint}   streams ${state.kinesis.inputStream} → ${state.kinesis.outputStream}
  state      ${stack.stateFile}

Try it:
  TOKEN=$(curl -s --cacert ${state.caFile} -u ${state.clients.reader.clientId}:${state.clients.reader.clientSecret} \\
    -d grant_type=client_credentials -d scope='${state.clients.reader.scopes.join(' ')}' ${state.tokenUrl} | node -p 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s -H "Authorization: Bearer $TOKEN" ${state.apiUrl}/v1/services
  npm run demo                                   # telemetry through the enricher, ownership printed
  npx portolan diff -f test/fixtures/catalog/backstage   # a Backstage import, planned
  npx portolan login                             # sign in as a person: ${Object.keys(state.users ?? {}).join(', ')} (passwords: users in local.json)

Ctrl-C stops everything.`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nportolan: stopping…');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  console.error(`portolan: ${error instanceof PortInUse ? error.message : (error as Error).message}`);
  process.exit(1);
}
