/**
 * `npm test`: lint, type-check, then every test against a fresh in-memory local
 * stack on free ports. Arguments narrow the test files (`npm test -- test/unit`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureDevCertificates } from '#infra/local/dev-ca';
import { startLocalStack } from '#infra/local/local-stack';
import { startCiIssuers } from './support/ci-issuers.ts';

const run = (command: string, args: string[], env = process.env) =>
  spawnSync(command, args, { stdio: 'inherit', env }).status ?? 1;

function testFiles(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [relative('.', path)] : [];
  });
}

const filters = process.argv.slice(2);
const files = testFiles('test').filter(
  (file) => filters.length === 0 || filters.some((f) => file.startsWith(f)),
);

for (const [what, command, args] of [
  ['lint', 'npx', ['biome', 'check', '.']],
  ['type-check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
] as const) {
  console.log(`▶ ${what}`);
  if (run(command, [...args]) !== 0) {
    console.error(`✖ ${what} failed`);
    process.exit(1);
  }
}

console.log('▶ starting the local stack (in memory, free ports)');
const stateDir = mkdtempSync(join(tmpdir(), 'portolan-test-'));
const freePorts = Object.fromEntries(
  ['API', 'ISSUER', 'DYNAMODB', 'KINESIS', 'KINESIS_TLS'].map((name) => [`PORTOLAN_${name}_PORT`, '0']),
);
const started = Date.now();
// Stand-ins for the CIs' OIDC issuers, trusted by the stack like any oidcIssuers entry.
const ciIssuers = await startCiIssuers({ tls: await ensureDevCertificates(stateDir) });
const stack = await startLocalStack({
  stateDir,
  inMemory: true,
  seed: false,
  // A short catalog TTL, so that tests see an ownership change reach enrichment quickly.
  env: {
    PORTOLAN_CACHE_TTL_SECONDS: '2',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...process.env,
    ...freePorts,
    PORTOLAN_OIDC_ISSUERS: JSON.stringify(ciIssuers.trusted),
  },
}).catch(async (error) => {
  await ciIssuers.stop();
  throw error;
});
console.log(`  ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${stack.state.apiUrl}`);

let status = 1;
try {
  status = await new Promise<number>((resolve) => {
    // The runner runs in a child process: the stack's gateway keeps serving from this one.
    import('node:child_process').then(({ spawn }) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
        {
          stdio: 'inherit',
          env: {
            ...process.env,
            PORTOLAN_LOCAL_STATE: stack.stateFile,
            PORTOLAN_CI_ISSUERS: JSON.stringify(ciIssuers.info),
          },
        },
      );
      child.on('exit', (code) => resolve(code ?? 1));
    });
  });
} finally {
  await stack.stop();
  await ciIssuers.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(status);
