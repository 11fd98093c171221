/**
 * Builds the CLI as it is published: one minified ES module bundled by the
 * project's own esbuild with the functions' options (infra/constructs/portolan-function.ts),
 * for Node.js 20+, with nothing left to install. `npx tsx cli/bundle.ts` writes
 * packages/cli/dist/portolan.js (run by `npm pack` in packages/cli).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { portolanBundling, projectRoot } from '#infra/constructs/portolan-function';

export interface BundleOptions {
  entry: string;
  /** The entry's output; with `splitting`, lazily imported chunks go beside it. */
  outfile: string;
  splitting?: boolean;
  /** esbuild target: the oldest Node.js that will run the bundle. */
  target: string;
  /** First line of the output (a shebang). */
  firstLine?: string;
}

export async function bundle(options: BundleOptions): Promise<Metafile> {
  mkdirSync(dirname(options.outfile), { recursive: true });
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: [options.entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: options.target,
    minify: portolanBundling.minify,
    mainFields: portolanBundling.mainFields,
    banner: {
      js: [options.firstLine, portolanBundling.banner].filter((line) => line !== undefined).join('\n'),
    },
    legalComments: 'none',
    metafile: true,
    ...(options.splitting
      ? {
          splitting: true,
          outdir: dirname(options.outfile),
          entryNames: basename(options.outfile, '.js'),
          chunkNames: '[name]-[hash]',
        }
      : { outfile: options.outfile }),
    logLevel: 'error',
  });
  return result.metafile;
}

export const cliPackageDir = join(projectRoot, 'packages', 'cli');

/**
 * The published CLI: the entry and the chunks it imports when a command needs
 * them (earlier builds' .js files in that directory are removed first); its metafile says which source files went in.
 */
export async function bundleCli(outfile = join(cliPackageDir, 'dist', 'portolan.js')): Promise<Metafile> {
  const dir = dirname(outfile);
  if (existsSync(dir))
    for (const stale of readdirSync(dir).filter((name) => name.endsWith('.js'))) rmSync(join(dir, stale));
  const metafile = await bundle({
    entry: 'cli/bin.ts',
    outfile,
    target: 'node20',
    firstLine: '#!/usr/bin/env node',
    splitting: true,
  });
  chmodSync(outfile, 0o755);
  return metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outfile = join(cliPackageDir, 'dist', 'portolan.js');
  const metafile = await bundleCli(outfile);
  for (const [file, { bytes }] of Object.entries(metafile.outputs))
    console.error(`${relative(process.cwd(), join(projectRoot, file))}: ${(bytes / 1024).toFixed(0)} KiB`);
}
