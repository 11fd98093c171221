/**
 * Builds a source file exactly as the stack's functions are bundled
 * (infra/constructs/portolan-function.ts: ESM, minified, the same target,
 * main fields and banner), so a benchmark measures the code Lambda runs.
 */
import { type BuildOptions, build } from 'esbuild';
import { portolanBundling } from '#infra/constructs/portolan-function';

/** `extra`: options no deployed bundle needs, such as where to find a module installed aside. */
export async function bundleLikeLambda(
  entryPoint: string,
  outfile: string,
  extra: Pick<BuildOptions, 'nodePaths'> = {},
): Promise<string> {
  await build({
    ...extra,
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
