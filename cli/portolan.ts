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
import { exportAudit } from '#cli/audit-export';
import { auditVerifyCommand, renderEntityVerification } from '#cli/audit-verify';
import { AccessError, resolveAccess } from '#cli/credentials';
import { loginCommand } from '#cli/login-command';
import { explainProblem, type PlanReport, type Problem, renderPlan } from '#cli/render';
import { cliVersion } from '#cli/version';
import type { EntityVerification } from '#shared/audit/verify-entity';
import { catalogJsonSchema } from '#shared/catalog/catalog-document';
import { kindByPlural, type kinds } from '#shared/catalog/entity-kinds';

export const exitCodes = { ok: 0, invalid: 1, changesPlanned: 2, access: 3 } as const;

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

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}`);
    return exitCodes.invalid;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.out(cliVersion);
    return exitCodes.ok;
  }
  const [command, ...args] = positionals;
  if (values.help || !command) {
    io.out(usage);
    return command || values.help ? exitCodes.ok : exitCodes.invalid;
  }
  const json = values.output === 'json';
  if (command === 'schema') {
    const { catalogJsonSchema } = await import('#shared/catalog/catalog-document');
    io.out(JSON.stringify(catalogJsonSchema(), null, 2));
    return exitCodes.ok;
  }
  if (command === 'audit' && args[0] === 'verify') return auditVerifyCommand(values, io);
  if (command === 'login' || command === 'logout') return loginCommand(command, values, io);
  try {
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

    switch (command) {
      case 'apply':
      case 'diff': {
        const files = values.file ?? [];
        if (files.length === 0) throw new UsageError(`${command} needs -f <file|dir>`);
        const documents = await import('#cli/load-documents');
        let loaded: ReturnType<typeof documents.loadCatalog>;
        try {
          loaded = documents.loadCatalog(files);
        } catch (error) {
          if (!(error instanceof documents.DocumentError)) throw error;
          io.err(error.message);
          return exitCodes.invalid;
        }
        const { document, notes } = loaded;
        if (!json) for (const note of notes) io.err(note);
        const dryRun = command === 'diff' || values['dry-run'] === true;
        const query = new URLSearchParams({
          ...(dryRun ? { dryRun: 'true' } : {}),
          ...(values.prune ? { prune: 'true' } : {}),
        });
        const report = (await call(
          'POST',
          `/v1/apply${query.size ? `?${query}` : ''}`,
          document,
        )) as unknown as PlanReport;
        print(report, () => renderPlan(report));
        const changes = report.summary.create + report.summary.update + report.summary.delete;
        return dryRun && changes > 0 ? exitCodes.changesPlanned : exitCodes.ok;
      }
      case 'get': {
        const [kindName, ...idParts] = args;
        const { kindByPlural, kinds } = await import('#shared/catalog/entity-kinds');
        const info = kinds[kindName as keyof typeof kinds] ?? kindByPlural.get(kindName ?? '');
        if (!info || idParts.length === 0)
          throw new UsageError('get needs a kind (team, service, repository, environment) and an id');
        const entity = await call('GET', `/v1/${info.plural}/${encodeURIComponent(idParts.join(' '))}`);
        print(entity, () => JSON.stringify(entity, null, 2));
        return exitCodes.ok;
      }
      case 'resolve': {
        if (args.length === 0 || args.some((a) => !a.includes('=')))
          throw new UsageError(
            'resolve needs attributes as key=value, e.g. portolan resolve service.name=checkout',
          );
        const query = new URLSearchParams(
          args.map((a): [string, string] => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
        );
        const result = await call('GET', `/v1/resolve?${query}`);
        print(result, () =>
          Object.entries(result.attributes as Record<string, string>)
            .map(([k, v]) => `${k} = ${v}`)
            .join('\n'),
        );
        return exitCodes.ok;
      }
      case 'audit': {
        if (args[0] === 'export') {
          const summary = await exportAudit(call, values.dir, access.apiUrl);
          print(
            summary,
            () =>
              `exported ${summary.digests} digests, ${summary.entities} entities, ${summary.events} events to ${summary.dir}`,
          );
          return exitCodes.ok;
        }
        const [entity] = args;
        if (!entity?.includes('/'))
          throw new UsageError('audit needs an entity, e.g. portolan audit service/checkout');
        const path = values.verify ? '/v1/audit/verify' : '/v1/audit';
        const result = await call('GET', `${path}?entity=${encodeURIComponent(entity)}`);
        print(result, () =>
          values.verify
            ? renderEntityVerification(result as unknown as EntityVerification)
            : ((result.items as Record<string, unknown>[]) ?? [])
                .map(
                  (e) =>
                    `${e.seq}\t${e.at}\t${e.action}\t${JSON.stringify((e.actor as Record<string, unknown>)?.sub)}`,
                )
                .join('\n'),
        );
        return values.verify && !result.intact ? exitCodes.invalid : exitCodes.ok;
      }
      case 'whoami': {
        const result = await call('GET', '/v1/whoami');
        print(result, () => JSON.stringify(result, null, 2));
        return exitCodes.ok;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
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
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
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
