/** The `portolan` executable: the CLI on this process's arguments, streams and environment. */
import { main } from '#cli/portolan';

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  env: process.env,
});
