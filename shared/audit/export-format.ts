/**
 * The audit export, as files: what `portolan audit export` writes and
 * `portolan audit verify --all` reads, and the parsing of its untrusted bytes.
 *
 *   manifest.json            what was exported, from where, when
 *   public-keys/<sha256>.pem the digest signing keys, named by their fingerprint
 *   digests/<key>.json       the signed digests, byte for byte as stored
 *   events.jsonl             every audit event, one per line
 *   heads.jsonl              every entity's head, one per line
 *
 * Parsing never throws: a line or file that is not what it should be becomes a
 * finding at its place, and verification goes on with the rest.
 */
import { z } from 'zod';
import { digestFormat, type SignedDigest } from '#shared/audit/audit-digest';
import type { AuditEvent } from '#shared/audit/audit-event';
import type { AuditHead } from '#shared/audit/audit-head';

export const exportFormat = 'portolan-audit-export/1';

/** Where a value came from: `events.jsonl:17`, `digests/…json`. */
export interface Located<T> {
  value: T;
  where: string;
}

export interface Finding {
  where: string;
  problem: string;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const isoTime = z.iso.datetime();
const headRef = z.object({ entity: z.string().min(1), seq: z.number().int().positive(), hash: hex64 });

const digestSchema = z.object({
  format: z.literal(digestFormat),
  number: z.number().int().positive(),
  from: isoTime,
  to: isoTime,
  previousDigestHash: hex64,
  heads: z.array(headRef),
  headCount: z.number().int().nonnegative(),
  merkleRoot: hex64,
  publicKeyFingerprint: hex64,
  signatureAlgorithm: z.literal('ECDSA_SHA_256'),
  signature: z.base64().min(1),
});

const record = z.record(z.string(), z.unknown());
const eventSchema = z.object({
  entity: z.string().min(1),
  seq: z.number().int().positive(),
  at: z.string(),
  action: z.enum(['create', 'update', 'delete']),
  actor: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  requestId: z.string(),
  before: record.nullable(),
  after: record.nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

const headSchema = headRef.extend({ at: z.string() });

/** Parses JSON text against a schema; a finding at `where` when it is not one. */
function parseJson<T>(text: string, schema: z.ZodType<T>, where: string): Located<T> | Finding {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { where, problem: `not JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { where, problem: `${issue?.path.join('.') || 'value'}: ${issue?.message}` };
  }
  // The exact input is kept: hashes and signatures are over what was stored, not a reshaped copy.
  return { value: value as T, where };
}

export const isFinding = (value: Located<unknown> | Finding): value is Finding => 'problem' in value;

export const parseDigest = (text: string, where: string) =>
  parseJson(text, digestSchema as unknown as z.ZodType<SignedDigest>, where);

/** One value per non-empty line of a JSON-lines file, located by line number. */
function parseLines<T>(text: string, file: string, schema: z.ZodType<T>): (Located<T> | Finding)[] {
  return text
    .split('\n')
    .map((line, index) => ({ line, where: `${file}:${index + 1}` }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, where }) => parseJson(line, schema, where));
}

export const parseEvents = (text: string, file = 'events.jsonl') =>
  parseLines(text, file, eventSchema as unknown as z.ZodType<AuditEvent>);

export const parseHeads = (text: string, file = 'heads.jsonl') =>
  parseLines(text, file, headSchema as z.ZodType<AuditHead>);
