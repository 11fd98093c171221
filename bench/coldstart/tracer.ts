/**
 * What X-Ray tracing with Powertools Tracer would cost each function's cold
 * start: its bundle as deployed against the same handler with a Tracer that
 * wraps its SDK clients (`captureAWSv3Client`), both built with the stack's
 * bundling options, imported in fresh Node processes, interleaved, median.
 * The tracer is not a dependency of Portolan; install it aside first:
 *
 *   npm install --prefix /tmp/tracer @aws-lambda-powertools/tracer@2.36.0
 *   npx tsx bench/coldstart/tracer.ts --tracer-modules /tmp/tracer/node_modules [--runs 20]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '#infra/constructs/portolan-function';
import { handlerInitEnv, importTime, kb, median } from '../support/cold-start.ts';
import { bundleLikeLambda } from '../support/lambda-bundle.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, 'tracer-modules': { type: 'string' } },
});
const tracerModules = values['tracer-modules'];
if (!tracerModules)
  throw new Error('--tracer-modules <node_modules with @aws-lambda-powertools/tracer> is required');
const runs = Number(values.runs);
// The tracer resolves from its own install, next to the project's modules.
const nodePaths = [join(projectRoot, 'node_modules'), tracerModules];
const outDir = join(projectRoot, 'bench', 'results', 'coldstart-tracer');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

/** The SDK clients each handler creates, wrapped as a traced handler would wrap them. */
const clients: Record<'api' | 'authorizer' | 'enrich', { name: string; from: string }[]> = {
  api: [{ name: 'DynamoDBClient', from: '@aws-sdk/client-dynamodb' }],
  authorizer: [],
  enrich: [
    { name: 'DynamoDBClient', from: '@aws-sdk/client-dynamodb' },
    { name: 'KinesisClient', from: '@aws-sdk/client-kinesis' },
  ],
};

function tracedEntry(fn: keyof typeof clients): string {
  const file = join(outDir, `${fn}-traced.mjs`);
  writeFileSync(
    file,
    [
      "import { Tracer } from '@aws-lambda-powertools/tracer';",
      ...clients[fn].map(({ name, from }) => `import { ${name} } from '${from}';`),
      'const tracer = new Tracer();',
      ...clients[fn].map(({ name }) => `tracer.captureAWSv3Client(new ${name}({}));`),
      `export { handler } from ${JSON.stringify(join(projectRoot, 'functions', fn, 'handler.ts'))};`,
    ].join('\n'),
  );
  return file;
}

// What each handler reads at init, and a Lambda environment so that the tracer is on.
const env = {
  ...handlerInitEnv,
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'portolan',
  POWERTOOLS_TRACE_ENABLED: 'true',
};

console.log(`\nTracer cost: import + init in a fresh Node ${process.version} process, median of ${runs}\n`);
console.log('| function | bundle | traced bundle | init | traced init | init ratio |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const fn of Object.keys(clients) as (keyof typeof clients)[]) {
  const handler = join(projectRoot, 'functions', fn, 'handler.ts');
  const plain = await bundleLikeLambda(handler, join(outDir, fn, 'plain.mjs'), { nodePaths });
  const traced = await bundleLikeLambda(tracedEntry(fn), join(outDir, fn, 'traced.mjs'), { nodePaths });
  const times = { plain: [] as number[], traced: [] as number[] };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so that machine noise hits both alike.
    times.plain.push(importTime(plain, env));
    times.traced.push(importTime(traced, env));
  }
  const [a, b] = [median(times.plain), median(times.traced)];
  console.log(
    `| ${fn} | ${kb(plain).toFixed(0)} KB | ${kb(traced).toFixed(0)} KB | ${a.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(b / a).toFixed(2)}× |`,
  );
}
