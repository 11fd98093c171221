/**
 * The IAM-like policy evaluator: pure, no I/O. An explicit deny wins, then an
 * allow, otherwise the request is refused by default. Every decision names the
 * statement that made it, so a 403 tells a CI author exactly what to change.
 */
import { builtinPolicies } from '#shared/auth/builtin-policies';
import type { ConditionOperator, Policy, Statement } from '#shared/auth/policy-schema';
import type { PortolanScope, Principal } from '#shared/auth/principal';
import { compileGlob, type Glob, globMatches, globOf, matchGlob } from '#shared/matching/glob';

export interface AuthorizationRequest {
  principal: Principal;
  action: string;
  resource: string;
  /**
   * The entity documents that resource conditions are tested on: for a change,
   * both the current and the proposed document, so a caller can neither touch an
   * entity it does not own nor move one it owns out of its reach.
   */
  documents: Record<string, unknown>[];
  policies: Policy[];
}

export interface Decision {
  allowed: boolean;
  /** `policy/<id>#<sid>`, `builtin/<scope>#<sid>` or `default-deny`. */
  decidedBy: string;
  reason: string;
}

interface SourcedStatement {
  source: string;
  statement: Statement;
}

/** The statements that apply to this caller: those of its scopes, and stored policies whose principal matches. */
function statementsFor(principal: Principal, policies: Policy[]): SourcedStatement[] {
  const builtin = principal.scopes
    .filter((scope): scope is PortolanScope => Object.hasOwn(builtinPolicies, scope))
    .flatMap((scope) =>
      builtinPolicies[scope].map((statement) => ({ source: `builtin/${scope}`, statement })),
    );
  const stored = [...policies]
    .sort((a, b) => a.id.localeCompare(b.id))
    .filter((policy) => principalMatches(policy.principal, principal.claims))
    .flatMap((policy) =>
      policy.statements.map((statement) => ({ source: `policy/${policy.id}`, statement })),
    );
  return [...builtin, ...stored];
}

const asStrings = (value: unknown): string[] => {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return [String(value)];
  if (Array.isArray(value)) return value.flatMap(asStrings);
  return [];
};

const toList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function principalMatches(pattern: Policy['principal'], claims: Record<string, unknown>): boolean {
  if (!pattern) return true;
  return Object.entries(pattern).every(([claim, globs]) => {
    const values = asStrings(claims[claim]);
    return toList(globs).some((glob) => values.some((value) => globMatches(glob, value)));
  });
}

const variable = /\$\{token\.([A-Za-z0-9_:.-]+)\}/g;

/** Replaces `${token.<claim>}`; undefined when a claim is missing, so the value matches nothing. */
function substitute(value: string, claims: Record<string, unknown>): string | undefined {
  const pieces = substitutedPieces(value, claims);
  return pieces?.map((p) => p.text).join('');
}

/**
 * The template as a glob: the policy author's `*` and `?` are wildcards, a
 * claim's are not, so a token claiming `acme/*` cannot widen `repository/${token.repository}`.
 */
function substituteGlob(value: string, claims: Record<string, unknown>): Glob | undefined {
  if (!value.includes('${')) return compileGlob(value);
  const pieces = substitutedPieces(value, claims);
  return pieces && globOf(pieces);
}

function substitutedPieces(value: string, claims: Record<string, unknown>) {
  const pieces: { text: string; wildcards: boolean }[] = [];
  let at = 0;
  for (const found of value.matchAll(variable)) {
    const [resolved] = asStrings(claims[found[1] as string]);
    if (resolved === undefined) return undefined;
    pieces.push(
      { text: value.slice(at, found.index), wildcards: true },
      { text: resolved, wildcards: false },
    );
    at = found.index + found[0].length;
  }
  pieces.push({ text: value.slice(at), wildcards: true });
  return pieces;
}

const dotted = (document: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => {
    if (node === null || typeof node !== 'object') return undefined;
    return (node as Record<string, unknown>)[key];
  }, document);

/** Each operator: whether it negates, and whether one (substituted) expected value fits one actual value. */
const compare: Record<
  ConditionOperator,
  {
    negated: boolean;
    test: (expected: string, claims: Record<string, unknown>) => ((a: string) => boolean) | undefined;
  }
> = {
  StringEquals: { negated: false, test: equalsTest },
  StringNotEquals: { negated: true, test: equalsTest },
  StringLike: { negated: false, test: likeTest },
  StringNotLike: { negated: true, test: likeTest },
};

function equalsTest(expected: string, claims: Record<string, unknown>) {
  const value = substitute(expected, claims);
  return value === undefined ? undefined : (actual: string) => actual === value;
}

function likeTest(expected: string, claims: Record<string, unknown>) {
  const glob = substituteGlob(expected, claims);
  return glob && ((actual: string) => matchGlob(glob, actual));
}

const usesResource = (statement: Statement) =>
  Object.values(statement.conditions ?? {}).some((block) =>
    Object.keys(block).some((k) => k.startsWith('resource.')),
  );

/** Whether every condition holds for one document (or none, when the statement tests no resource field). */
function conditionsHold(
  statement: Statement,
  claims: Record<string, unknown>,
  document?: Record<string, unknown>,
) {
  for (const [operator, block] of Object.entries(statement.conditions ?? {}) as [
    ConditionOperator,
    Record<string, string | string[]>,
  ][]) {
    const { negated, test } = compare[operator];
    for (const [key, expected] of Object.entries(block)) {
      const [scope, ...path] = key.split('.');
      if (scope === 'resource' && !document) return false;
      const actual = asStrings(
        scope === 'token' ? claims[path.join('.')] : dotted(document ?? {}, path.join('.')),
      );
      const tests = toList(expected)
        .map((value) => test(value, claims))
        .filter((fits) => fits !== undefined);
      const matched = tests.some((fits) => actual.some(fits));
      if (matched === negated) return false;
    }
  }
  return true;
}

function applies({ statement }: SourcedStatement, request: AuthorizationRequest): boolean {
  const { action, resource, documents, principal } = request;
  if (!statement.actions.some((glob) => globMatches(glob, action))) return false;
  const resourceFits = (template: string) => {
    const glob = substituteGlob(template, principal.claims);
    return glob !== undefined && matchGlob(glob, resource);
  };
  if (!statement.resources.some(resourceFits)) return false;
  if (!usesResource(statement) || documents.length === 0) return conditionsHold(statement, principal.claims);
  const holds = (document: Record<string, unknown>) => conditionsHold(statement, principal.claims, document);
  // A deny that fits either side of a change applies; an allow must fit both.
  return statement.effect === 'deny' ? documents.some(holds) : documents.every(holds);
}

export function authorize(request: AuthorizationRequest): Decision {
  const statements = statementsFor(request.principal, request.policies).filter((s) => applies(s, request));
  const deny = statements.find((s) => s.statement.effect === 'deny');
  if (deny) {
    const decidedBy = `${deny.source}#${deny.statement.sid}`;
    return { allowed: false, decidedBy, reason: `explicitly denied by ${decidedBy}` };
  }
  const allow = statements.find((s) => s.statement.effect === 'allow');
  if (allow) {
    const decidedBy = `${allow.source}#${allow.statement.sid}`;
    return { allowed: true, decidedBy, reason: `allowed by ${decidedBy}` };
  }
  const scopes = request.principal.scopes.length ? request.principal.scopes.join(' ') : 'none';
  return {
    allowed: false,
    decidedBy: 'default-deny',
    reason: `no statement allows it (default deny); the token's scopes: ${scopes}`,
  };
}

export interface EffectiveStatement {
  source: string;
  sid: string;
  actions: string[];
  resources: string[];
  conditions?: Statement['conditions'];
}

/** What the caller may do (`/v1/whoami`): applicable statements, with `${token.*}` resolved for this caller. */
export function effectivePermissions(principal: Principal, policies: Policy[]) {
  const resolved = statementsFor(principal, policies).map(
    ({ source, statement }): EffectiveStatement & { effect: string } => {
      const conditions = statement.conditions
        ? Object.fromEntries(
            Object.entries(statement.conditions).map(([operator, block]) => [
              operator,
              Object.fromEntries(
                Object.entries(block).map(([key, value]) => [
                  key,
                  toList(value).map(
                    (v) => substitute(v, principal.claims) ?? `${v} (claim missing: matches nothing)`,
                  ),
                ]),
              ),
            ]),
          )
        : undefined;
      return {
        source,
        sid: statement.sid,
        effect: statement.effect,
        actions: statement.actions,
        resources: statement.resources,
        ...(conditions ? { conditions } : {}),
      };
    },
  );
  const strip = ({ effect: _, ...rest }: EffectiveStatement & { effect: string }) => rest;
  return {
    allow: resolved.filter((s) => s.effect === 'allow').map(strip),
    deny: resolved.filter((s) => s.effect === 'deny').map(strip),
  };
}
