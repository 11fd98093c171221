/**
 * Builds the action's committed bundle, `action/dist/index.mjs`, with the
 * CLI's bundling (cli/bundle.ts) for the runner's Node.js 24. A test rebuilds
 * it and compares bytes, so the committed file is always the source's.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle } from '#cli/bundle';
import { projectRoot } from '#infra/constructs/portolan-function';

export const actionBundle = join(projectRoot, 'action', 'dist', 'index.mjs');

export const bundleAction = (outfile = actionBundle) =>
  bundle({ entry: 'action/src/index.ts', outfile, target: 'node24' });

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await bundleAction();
  console.error(`built ${actionBundle}`);
}
