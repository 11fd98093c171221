/**
 * `-f <file|dir>` → one catalog document: Portolan documents (YAML or JSON),
 * Backstage `catalog-info.yaml` entities and `CODEOWNERS`, merged. Every
 * problem is located: file, line and column where the parser knows them,
 * the field path, and what was expected.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { type Document, isAlias, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { z } from 'zod';
import { type CatalogDocument, catalogDocument, type DocumentEntity } from '#shared/catalog/catalog-document';
import { fromBackstage, isBackstageEntity } from '#shared/catalog/import-backstage';
import { catchAllTeam } from '#shared/catalog/import-codeowners';

export class DocumentError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'DocumentError';
  }
}

/** The files `-f` names: a file, or the catalog files and CODEOWNERS under a directory. */
export function catalogFiles(path: string): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new DocumentError([`${path}: no such file or directory`]);
  if (stat.isFile()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((name) => !name.split('/').includes('node_modules'))
    .filter((name) => ['.yaml', '.yml', '.json'].includes(extname(name)) || basename(name) === 'CODEOWNERS')
    .sort()
    .map((name) => join(path, name));
}

const formatPath = (path: readonly PropertyKey[]) =>
  path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );

type Ranged = { range?: [number, number, number] };

/** Where in the YAML a zod issue points: the deepest node of its path that exists (for an unknown field, its key). */
function locate(
  doc: Document,
  lines: LineCounter,
  path: readonly PropertyKey[],
  unknownKey?: string,
): string {
  if (unknownKey !== undefined) {
    const map = doc.getIn(path as unknown[], true) as
      | { items?: { key?: Ranged & { value?: unknown } }[] }
      | undefined;
    const key = map?.items?.find((pair) => pair.key?.value === unknownKey)?.key;
    if (key?.range) {
      const { line, col } = lines.linePos(key.range[0]);
      return `${line}:${col}`;
    }
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true) as
      | { range?: [number, number, number] }
      | undefined;
    if (node?.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `${line}:${col}`;
    }
  }
  return '1:1';
}

function issues(file: string, doc: Document, lines: LineCounter, error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const what = key === undefined ? issue.message : 'unknown field';
      return `${file}:${locate(doc, lines, key === undefined ? path : issue.path, key)}: ${formatPath(path) || '(document)'}: ${what}`;
    });
  });
}

/**
 * Limits on one catalog file, so that a hostile or broken file is a located
 * error, not minutes of CPU or an exhausted heap. A real catalog is a few KiB,
 * a handful of levels deep, with few if any aliases; the API takes 256 KiB.
 */
export const yamlLimits = {
  fileBytes: 1024 * 1024,
  /** Alias expansions per document (a "billion laughs" document needs thousands). */
  aliasCount: 100,
  /** Nesting of mappings and sequences, counted from the document's root. */
  depth: 32,
} as const;

const at = (lines: LineCounter, offset: number) => {
  const { line, col } = lines.linePos(offset);
  return `${line}:${col}`;
};

/** The first alias of the document: where the expansion that went too far starts. */
function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node) && node.range) {
      offset = node.range[0];
      return visit.BREAK;
    }
    return undefined;
  });
  return offset;
}

/** The path to the first value nested deeper than the limit, found without recursion. */
function tooDeep(root: unknown, limit: number): (string | number)[] | undefined {
  const pending: [unknown, (string | number)[]][] = [[root, []]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= limit) return path;
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [key, child] of entries) pending.push([child, [...path, key]]);
  }
  return undefined;
}

/** A document's value within the limits, or the located problem. */
function documentValue(
  file: string,
  doc: Document,
  lines: LineCounter,
): { value: unknown } | { problem: string } {
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: yamlLimits.aliasCount });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    const offset = firstAlias(doc) ?? doc.range?.[0] ?? 0;
    return {
      problem: `${file}:${at(lines, offset)}: aliases expand to more than ${yamlLimits.aliasCount} copies (${error.message}); write the values out`,
    };
  }
  const deep = tooDeep(value, yamlLimits.depth);
  if (deep) {
    return {
      problem: `${file}:${locate(doc, lines, deep)}: ${formatPath(deep)}: nested more than ${yamlLimits.depth} levels deep`,
    };
  }
  return { value };
}

export interface LoadedCatalog {
  document: CatalogDocument;
  notes: string[];
}

/** What the files say, gathered file by file before it is merged into one document. */
interface Gathered {
  problems: string[];
  notes: string[];
  entities: DocumentEntity[];
  backstage: unknown[];
  scope?: CatalogDocument['scope'];
  codeowners?: { file: string; text: string };
}

const notPortolanHint =
  ' (a Portolan catalog document starts with apiVersion: portolan/v1; Backstage entities with apiVersion: backstage.io/v1alpha1)';

/** One Portolan catalog document: its entities, and its scope, which every file must agree on. */
function gatherCatalogDocument(
  file: string,
  doc: Document,
  lines: LineCounter,
  value: unknown,
  into: Gathered,
) {
  const parsed = catalogDocument.safeParse(value);
  if (!parsed.success) {
    const hint =
      typeof value === 'object' && !Array.isArray(value) && !('apiVersion' in (value as object))
        ? notPortolanHint
        : '';
    into.problems.push(...issues(file, doc, lines, parsed.error).map((p) => p + hint));
    return;
  }
  const { scope } = parsed.data;
  if (scope) {
    if (into.scope && into.scope.repository !== scope.repository)
      into.problems.push(
        `${file}: scope ${scope.repository} differs from ${into.scope.repository} in another file`,
      );
    into.scope = scope;
  }
  into.entities.push(...(parsed.data.entities as DocumentEntity[]));
}

/** One YAML document: a syntax error, a limit exceeded, a Backstage entity or a catalog document. */
function gatherYamlDocument(file: string, doc: Document, lines: LineCounter, into: Gathered) {
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const [line, col] = [e.linePos?.[0]?.line ?? 1, e.linePos?.[0]?.col ?? 1];
      into.problems.push(`${file}:${line}:${col}: ${e.message.split('\n')[0]}`);
    }
    return;
  }
  const read = documentValue(file, doc, lines);
  if ('problem' in read) into.problems.push(read.problem);
  else if (read.value === null || read.value === undefined) return;
  else if (isBackstageEntity(read.value)) into.backstage.push(read.value);
  else gatherCatalogDocument(file, doc, lines, read.value, into);
}

function gatherFile(file: string, into: Gathered) {
  const bytes = statSync(file).size;
  if (bytes > yamlLimits.fileBytes) {
    into.problems.push(
      `${file}: ${bytes} bytes, over the ${yamlLimits.fileBytes}-byte (1 MiB) limit of a catalog file; split it`,
    );
    return;
  }
  const text = readFileSync(file, 'utf8');
  if (basename(file) === 'CODEOWNERS') {
    into.codeowners = { file, text };
    return;
  }
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }))
    gatherYamlDocument(file, doc, lines, into);
}

function addBackstageEntities(into: Gathered) {
  if (!into.backstage.length) return;
  const imported = fromBackstage(into.backstage);
  into.entities.push(...imported.entities);
  into.notes.push(...imported.skipped.map((s) => `backstage: skipped ${s}`));
}

/** CODEOWNERS names the repository's team only when nothing better is declared. */
function addCodeownersTeam({ codeowners, scope, entities, notes }: Gathered) {
  const repository = scope?.repository;
  if (!codeowners || !repository || entities.some((e) => e.kind === 'repository' && e.id === repository))
    return;
  const owner = catchAllTeam(codeowners.text);
  if (owner) {
    entities.push({ kind: 'repository', id: repository, team: owner.team } as DocumentEntity);
    notes.push(
      `${codeowners.file}:${owner.line}: repository ${repository} → team ${owner.team} (CODEOWNERS catch-all)`,
    );
  } else notes.push(`${codeowners.file}: no catch-all (*) rule with a team; repository team not derived`);
}

export function loadCatalog(paths: string[]): LoadedCatalog {
  const gathered: Gathered = { problems: [], notes: [], entities: [], backstage: [] };
  for (const file of paths.flatMap(catalogFiles)) gatherFile(file, gathered);
  addBackstageEntities(gathered);
  addCodeownersTeam(gathered);

  const { problems, scope, entities, notes } = gathered;
  if (problems.length) throw new DocumentError(problems);
  const merged = catalogDocument.safeParse({
    apiVersion: 'portolan/v1',
    ...(scope ? { scope } : {}),
    entities,
  });
  if (!merged.success)
    throw new DocumentError(
      merged.error.issues.map((i) => `imported entities: ${formatPath(i.path)}: ${i.message}`),
    );
  return { document: merged.data, notes };
}
