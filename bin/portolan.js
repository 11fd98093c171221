#!/usr/bin/env node
// `npx portolan` in this repository: the CLI's TypeScript, run through tsx (as `npm start` and
// `npm test` are). The published package (packages/cli) runs the bundled build instead.
import { register } from 'tsx/esm/api';

register();
await import('../cli/bin.ts');
