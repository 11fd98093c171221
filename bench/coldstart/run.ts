/**
 * Cold start, per function: bundle size, and the time a fresh Node process
 * takes to import the bundle and run its initialisation (median of 20),
 * for Portolan's bundles (the exact options the stack deploys with) and, in
 * the same run, reference bundles of the same handlers built with default
 * `NodejsFunction` settings (CommonJS, not minified, AWS SDK left to the runtime).
 *
 *   npx tsx bench/coldstart/run.ts [--runs 20]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { projectRoot } from '#infra/constructs/portolan-function';
import { handlerInitEnv, importTime, kb, median } from '../support/cold-start.ts';
import { bundleLikeLambda } from '../support/lambda-bundle.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const outDir = join(projectRoot, 'bench', 'results', 'coldstart');
rmSync(outDir, { recursive: true, force: true });

const functions = ['api', 'authorizer', 'enrich'] as const;
const env = {
  ...handlerInitEnv,
  POWERTOOLS_METRICS_NAMESPACE: 'Portolan',
  POWERTOOLS_SERVICE_NAME: 'portolan',
};

async function bundle(fn: (typeof functions)[number], variant: 'portolan' | 'reference') {
  const outfile = join(outDir, variant, fn, variant === 'portolan' ? 'index.mjs' : 'index.cjs');
  const entryPoint = join(projectRoot, 'functions', fn, 'handler.ts');
  if (variant === 'portolan') return bundleLikeLambda(entryPoint, outfile);
  // NodejsFunction's defaults for a Node.js 18+ runtime: CommonJS, no minification, no
  // source map, the AWS SDK v3 external (the runtime's copy; here, node_modules' copy).
  await build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    target: 'node24',
    outfile,
    logLevel: 'error',
    format: 'cjs',
    external: ['@aws-sdk/*'],
  });
  return outfile;
}

const rows = [];
for (const fn of functions) {
  const ours = await bundle(fn, 'portolan');
  const reference = await bundle(fn, 'reference');
  const times = { ours: [] as number[], reference: [] as number[] };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so that machine noise hits both alike.
    times.ours.push(importTime(ours, env));
    times.reference.push(importTime(reference, env));
  }
  rows.push({
    function: fn,
    bundleKB: kb(ours),
    referenceKB: kb(reference),
    initMs: median(times.ours),
    referenceInitMs: median(times.reference),
  });
}

console.log(`\nCold start: import + init in a fresh Node ${process.version} process, median of ${runs}\n`);
console.log('| function | bundle | reference bundle | init | reference init | init ratio |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.function} | ${r.bundleKB.toFixed(0)} KB | ${r.referenceKB.toFixed(0)} KB (+ SDK from the runtime) | ${r.initMs.toFixed(0)} ms | ${r.referenceInitMs.toFixed(0)} ms | ${(r.initMs / r.referenceInitMs).toFixed(2)}× |`,
  );
mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(projectRoot, 'bench', 'results', 'coldstart.json'),
  JSON.stringify({ at: new Date().toISOString(), node: process.version, runs, rows }, null, 2),
);
