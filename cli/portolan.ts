/**
 * `portolan`: keeps the catalog current from CI, and answers "who owns this?".
 *
 * Exit codes: 0 success (or nothing to change), 2 changes planned (dry run /
 * diff), 1 refused or invalid, 3 transport, configuration or authentication failure.
 *
 * The schemas and the YAML parser are most of the bundle: commands load them
 * when they need them, so that `whoami`, `resolve` or `--version` start fast.
 */
import { parseArgs } from 'node:util';
import { ApiProblem, apiClient } from '#cli/api-client';
import {
  type ApiCommand,
  apiCommands,
  type CommandContext,
  exitCodes,
  type Io,
  UsageError,
} from '#cli/api-commands';
import { auditVerifyCommand } from '#cli/audit-verify';
import { AccessError, resolveAccess } from '#cli/credentials';
import { loginCommand } from '#cli/login-command';
import { explainProblem, type Problem } from '#cli/render';
import { cliVersion } from '#cli/version';

export { exitCodes };

const usage = `usage: portolan <command> [options]

  apply -f <file|dir>... [--dry-run] [--prune]   converge the catalog to the documents
  diff  -f <file|dir>...                         the plan, without applying (exit 2 if it changes anything)
  get <kind> <id>                                one entity (kind: team, service, repository, environment)
  resolve key=value...                           who owns telemetry with these attributes
  audit <kind>/<id> [--verify]                   an entity's audit events, or verify their hash chain
  audit export [--dir <dir>]                     write digests, public keys, events and heads for an auditor
  audit verify --all [--dir <dir>] [--public-key <pem>]   verify an export offline (exit 1 if not intact)
  whoami                                         the caller and its effective permissions
  login [--device] [--no-browser] [--callback-url <loopback url>] [--timeout <s>] [--issuer <url> --client-id <id>]   sign in as a person
  logout                                         forget (and revoke) the login to this API
  schema                                         the catalog document's JSON Schema (for $schema in editors)

options: --api-url <url> (PORTOLAN_API_URL)  --token <jwt> (PORTOLAN_TOKEN)  --output text|json  --version
exit codes: 0 done / no changes, 2 changes planned, 1 refused or invalid, 3 transport or auth failure`;

type Values = ReturnType<typeof parse>['values'];

/** Commands answered without the API: `--version`, help, the schema, offline verification, login. */
async function localCommand(command: string | undefined, args: string[], values: Values, io: Io) {
  if (values.version) {
    io.out(cliVersion);
    return exitCodes.ok;
  }
  if (values.help || !command) {
    io.out(usage);
    return command || values.help ? exitCodes.ok : exitCodes.invalid;
  }
  if (command === 'schema') {
    const { catalogJsonSchema } = await import('#shared/catalog/catalog-document');
    io.out(JSON.stringify(catalogJsonSchema(), null, 2));
    return exitCodes.ok;
  }
  if (command === 'audit' && args[0] === 'verify') return auditVerifyCommand(values, io);
  if (command === 'login' || command === 'logout') return loginCommand(command, values, io);
  return undefined;
}

/** Ends a command early with an exit code, its reason already printed. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** The context every API command shares: the caller's access, `call` and `print`. */
function commandContext(command: string, args: string[], values: Values, io: Io): CommandContext {
  const json = values.output === 'json';
  const access = resolveAccess({ apiUrl: values['api-url'], token: values.token }, io.env);
  const api = apiClient(access);
  const call = async (method: string, path: string, body?: unknown) => {
    try {
      return await api(method, path, body);
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      if (json) io.out(JSON.stringify(error.payload, null, 2));
      else io.err(explainProblem(error.payload as unknown as Problem, access.source));
      throw new Exit(error.status === 401 ? exitCodes.access : exitCodes.invalid);
    }
  };
  const print = (payload: unknown, text: () => string) =>
    io.out(json ? JSON.stringify(payload, null, 2) : text());
  return { command, args, values, json, apiUrl: access.apiUrl, call, print, io };
}

/** What an API command's failure means for the exit code; anything unexpected is rethrown. */
function exitCodeOf(error: unknown, io: Io): number {
  if (error instanceof Exit) return error.code;
  if (error instanceof UsageError) {
    io.err(`${error.message}\n\n${usage}`);
    return exitCodes.invalid;
  }
  if (error instanceof AccessError) {
    io.err(`error: ${error.message}`);
    return exitCodes.access;
  }
  throw error;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}`);
    return exitCodes.invalid;
  }
  const [command, ...args] = positionals;
  const local = await localCommand(command, args, values, io);
  if (local !== undefined) return local;
  try {
    // Own keys only: `portolan constructor` is no command.
    if (!command || !Object.hasOwn(apiCommands, command))
      throw new UsageError(`unknown command "${command}"`);
    const run = apiCommands[command] as ApiCommand;
    return await run(commandContext(command, args, values, io));
  } catch (error) {
    return exitCodeOf(error, io);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      'dry-run': { type: 'boolean' },
      prune: { type: 'boolean' },
      verify: { type: 'boolean' },
      all: { type: 'boolean' },
      dir: { type: 'string', default: 'portolan-audit-export' },
      'public-key': { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
      'api-url': { type: 'string' },
      token: { type: 'string' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      scope: { type: 'string' },
      device: { type: 'boolean' },
      'no-browser': { type: 'boolean' },
      'callback-url': { type: 'string' },
      timeout: { type: 'string', default: '300' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
}
