/**
 * Builds a source file exactly as the stack's functions are bundled
 * (infra/constructs/portolan-function.ts: ESM, minified, the same target,
 * main fields and banner), so a benchmark measures the code Lambda runs.
 */
import { build } from 'esbuild';
import { portolanBundling } from '#infra/constructs/portolan-function';

export async function bundleLikeLambda(entryPoint: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    target: portolanBundling.target,
    format: 'esm',
    minify: portolanBundling.minify,
    sourcemap: portolanBundling.sourceMap,
    sourcesContent: portolanBundling.sourcesContent,
    mainFields: portolanBundling.mainFields,
    banner: { js: portolanBundling.banner },
    outfile,
    logLevel: 'error',
  });
  return outfile;
}
