/** The action's entry point, as the runner starts it (`node dist/index.mjs`). */
import { runAction } from './run-action.ts';

process.exitCode = await runAction(process.env, (line) => process.stdout.write(`${line}\n`));
