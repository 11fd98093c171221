/**
 * The commands that talk to the API, one function each, keyed by name. Each
 * gets the same context: its arguments, `call` (an API request whose problem
 * is printed and ends the command with its exit code) and `print` (JSON or
 * text, as `--output` asks). Adding a command is adding an entry here and a
 * line to the usage.
 */
import { exportAudit } from '#cli/audit-export';
import { renderEntityVerification } from '#cli/audit-verify';
import { type PlanReport, renderPlan } from '#cli/render';
import type { EntityVerification } from '#shared/audit/verify-entity';

export const exitCodes = { ok: 0, invalid: 1, changesPlanned: 2, access: 3 } as const;

/** A command used wrongly: its message is shown with the usage. */
export class UsageError extends Error {}

export type Call = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

export interface CommandContext {
  /** The command's name, as typed (`apply` and `diff` share one function). */
  command: string;
  /** The positionals after the command. */
  args: string[];
  values: {
    file?: string[];
    'dry-run'?: boolean;
    prune?: boolean;
    verify?: boolean;
    dir: string;
  };
  json: boolean;
  apiUrl: string;
  call: Call;
  print: (payload: unknown, text: () => string) => void;
  io: Io;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export type ApiCommand = (ctx: CommandContext) => Promise<number>;

const applyOrDiff: ApiCommand = async ({ command, values, json, call, print, io }) => {
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
};

const get: ApiCommand = async ({ args, call, print }) => {
  const [kindName, ...idParts] = args;
  const { kindByPlural, kinds } = await import('#shared/catalog/entity-kinds');
  const info = kinds[kindName as keyof typeof kinds] ?? kindByPlural.get(kindName ?? '');
  if (!info || idParts.length === 0)
    throw new UsageError('get needs a kind (team, service, repository, environment) and an id');
  const entity = await call('GET', `/v1/${info.plural}/${encodeURIComponent(idParts.join(' '))}`);
  print(entity, () => JSON.stringify(entity, null, 2));
  return exitCodes.ok;
};

const resolve: ApiCommand = async ({ args, call, print }) => {
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
};

const auditExport: ApiCommand = async ({ values, call, print, apiUrl }) => {
  const summary = await exportAudit(call, values.dir, apiUrl);
  print(
    summary,
    () =>
      `exported ${summary.digests} digests, ${summary.entities} entities, ${summary.events} events to ${summary.dir}`,
  );
  return exitCodes.ok;
};

const renderEvents = (result: Record<string, unknown>) =>
  ((result.items as Record<string, unknown>[]) ?? [])
    .map(
      (e) => `${e.seq}\t${e.at}\t${e.action}\t${JSON.stringify((e.actor as Record<string, unknown>)?.sub)}`,
    )
    .join('\n');

const audit: ApiCommand = async (ctx) => {
  const { args, values, call, print } = ctx;
  if (args[0] === 'export') return auditExport(ctx);
  const [entity] = args;
  if (!entity?.includes('/'))
    throw new UsageError('audit needs an entity, e.g. portolan audit service/checkout');
  const path = values.verify ? '/v1/audit/verify' : '/v1/audit';
  const result = await call('GET', `${path}?entity=${encodeURIComponent(entity)}`);
  print(result, () =>
    values.verify ? renderEntityVerification(result as unknown as EntityVerification) : renderEvents(result),
  );
  return values.verify && !result.intact ? exitCodes.invalid : exitCodes.ok;
};

const whoami: ApiCommand = async ({ call, print }) => {
  const result = await call('GET', '/v1/whoami');
  print(result, () => JSON.stringify(result, null, 2));
  return exitCodes.ok;
};

export const apiCommands: Record<string, ApiCommand> = {
  apply: applyOrDiff,
  diff: applyOrDiff,
  get,
  resolve,
  audit,
  whoami,
};
