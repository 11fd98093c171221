/**
 * `portolan audit verify --all`: verifies an export offline, trusting nothing
 * but the files and, if given, a public key the auditor fetched from KMS
 * (`aws kms get-public-key`). Every finding names its file and line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedDigest } from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';
import {
  type Finding,
  isFinding,
  type Located,
  parseDigest,
  parseEvents,
  parseHeads,
} from '#shared/audit/export-format';
import type { EntityVerification } from '#shared/audit/verify-entity';
import { type ExportVerdict, verifyExport } from '#shared/audit/verify-export';

/** Raised when there is no export to verify. */
export class ExportMissing extends Error {}

const filesIn = (dir: string, suffix: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(suffix))
        .sort()
    : [];

const readOr = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

function split<T>(parsed: (Located<T> | Finding)[], findings: Finding[]): Located<T>[] {
  const values: Located<T>[] = [];
  for (const item of parsed) {
    if (isFinding(item)) findings.push(item);
    else values.push(item);
  }
  return values;
}

export function verifyExportDir(dir: string, trustedPublicKeyFile?: string): ExportVerdict {
  if (!existsSync(join(dir, 'events.jsonl'))) {
    throw new ExportMissing(`no audit export in ${dir}: write one with "portolan audit export --dir ${dir}"`);
  }
  const parseFindings: Finding[] = [];
  const publicKeys = new Map(
    filesIn(join(dir, 'public-keys'), '.pem').map((name) => [
      name.slice(0, -'.pem'.length),
      { value: readFileSync(join(dir, 'public-keys', name), 'utf8'), where: `public-keys/${name}` },
    ]),
  );
  const digests = split<SignedDigest>(
    filesIn(join(dir, 'digests'), '.json').map((name) =>
      parseDigest(readFileSync(join(dir, 'digests', name), 'utf8'), `digests/${name}`),
    ),
    parseFindings,
  );
  const events = split<AuditEvent>(parseEvents(readOr(join(dir, 'events.jsonl'))), parseFindings);
  const heads = split<AuditHead>(parseHeads(readOr(join(dir, 'heads.jsonl'))), parseFindings);
  const verdict = verifyExport({
    publicKeys,
    digests,
    events,
    heads,
    ...(trustedPublicKeyFile ? { trustedPublicKey: readFileSync(trustedPublicKeyFile, 'utf8') } : {}),
  });
  const findings = [...parseFindings, ...verdict.findings];
  return { ...verdict, intact: findings.length === 0, findings };
}

export function renderExportVerdict(verdict: ExportVerdict): string {
  const { summary } = verdict;
  const last = summary.lastDigest
    ? `digest ${summary.lastDigest.number} (${summary.lastDigest.to})`
    : 'no digest';
  const lines = [
    `${summary.digests} digests, last ${last}; ${summary.entities} entities, ${summary.events} events, ${summary.attestedEvents} attested by a signed digest`,
  ];
  if (verdict.intact)
    lines.push('audit log intact: every digest verifies and every attested event is unchanged');
  else
    lines.push(
      ...verdict.findings.map((f) => `${f.where}: ${f.problem}`),
      `audit log NOT intact: ${verdict.findings.length} finding(s)`,
    );
  return lines.join('\n');
}

/** `audit verify --all`: offline, so it runs before (and without) any API access. */
export function auditVerifyCommand(
  values: { all?: boolean; dir: string; 'public-key'?: string; output?: string },
  io: { out: (text: string) => void; err: (text: string) => void },
): number {
  if (!values.all) {
    io.err(
      'audit verify needs --all: it verifies a whole export offline (for one entity, online: portolan audit <kind>/<id> --verify)',
    );
    return 1;
  }
  try {
    const verdict = verifyExportDir(values.dir, values['public-key']);
    io.out(values.output === 'json' ? JSON.stringify(verdict, null, 2) : renderExportVerdict(verdict));
    return verdict.intact ? 0 : 1;
  } catch (error) {
    if (!(error instanceof ExportMissing) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}

/** `/v1/audit/verify`'s three layers, one line each. */
export function renderEntityVerification(v: EntityVerification): string {
  const chain = v.chain.intact ? 'intact' : `BROKEN at event ${v.chain.brokenAt}: ${v.chain.reason}`;
  const head = v.head.intact ? `intact at event ${v.head.seq}` : `BROKEN: ${v.head.reason}`;
  let digests: string;
  if ('unavailable' in v.digests) digests = `not checked (${v.digests.unavailable})`;
  else {
    const d = v.digests;
    const parts = [
      ...d.problems.map((p) => `digest ${p.number}: ${p.reason}`),
      ...(d.brokenSince ? [`BROKEN since digest ${d.brokenSince.digest}: ${d.brokenSince.reason}`] : []),
      d.attested
        ? `attested up to event ${d.attested.seq} by digest ${d.attested.digest}`
        : 'not yet in a digest',
      ...(d.unattestedEvents > 0 && d.attested ? [`${d.unattestedEvents} event(s) since`] : []),
    ];
    digests = `${d.intact ? 'intact' : 'BROKEN'}: ${parts.join('; ')}`;
  }
  return [
    `${v.entity}: ${v.intact ? 'intact' : 'NOT intact'} (${v.events} events)`,
    `  chain:   ${chain}`,
    `  head:    ${head}`,
    `  digests: ${digests}`,
  ].join('\n');
}
