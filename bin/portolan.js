#!/usr/bin/env node
// `npx portolan`: the CLI is TypeScript, run through tsx (as `npm start` and `npm test` are).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/portolan.ts');
process.exitCode = await main(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  env: process.env,
});
