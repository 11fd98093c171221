/** The CLI's version: the published package's, inlined into the bundle at build time. */
import cliPackage from '../packages/cli/package.json' with { type: 'json' };

export const cliVersion: string = cliPackage.version;
