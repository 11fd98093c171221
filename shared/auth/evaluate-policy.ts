/**
 * The IAM-like policy evaluator: pure, no I/O. An explicit deny wins, then an
 * allow, otherwise the request is refused by default. Every decision names the
 * statement that made it, so a 403 tells a CI author exactly what to change.
 */
import { adminGroupStatements, builtinPolicies, teamMembersStatements } from '#shared/auth/builtin-policies';
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
  settings?: AuthorizationSettings;
}

/** Built-ins a deployment turns on (`ADMIN_GROUPS`, `TEAM_MEMBERS_POLICY`). */
export interface AuthorizationSettings {
  /** Members of these groups administer Portolan (`builtin/admin-group`). */
  adminGroups: readonly string[];
  /** Team members may change their teams' services and repositories (`builtin/team-members`). */
  teamMembersPolicy: boolean;
}

const noSettings: AuthorizationSettings = { adminGroups: [], teamMembersPolicy: false };

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

/**
 * The statements that apply to this caller: those of its scopes, the group
 * built-ins it qualifies for, and stored policies whose principal matches.
 */
function statementsFor(
  principal: Principal,
  policies: Policy[],
  settings: AuthorizationSettings = noSettings,
): SourcedStatement[] {
  const sourced = (source: string, statements: Statement[]) =>
    statements.map((statement) => ({ source, statement }));
  const builtin = principal.scopes
    .filter((scope): scope is PortolanScope => Object.hasOwn(builtinPolicies, scope))
    .flatMap((scope) => sourced(`builtin/${scope}`, builtinPolicies[scope]));
  if ((principal.groups ?? []).some((group) => settings.adminGroups.includes(group)))
    builtin.push(...sourced('builtin/admin-group', adminGroupStatements));
  if (settings.teamMembersPolicy && (principal.teams ?? []).length > 0)
    builtin.push(...sourced('builtin/team-members', teamMembersStatements));
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

const variable = /\$\{(token|principal)\.([A-Za-z0-9_:.-]+)\}/g;

/** Combinations one template may expand to; beyond this, the rest match nothing. */
export const maxExpansions = 1_000;

/**
 * What a variable stands for: `${token.<claim>}` one value (the claim's first),
 * `${principal.teams}` and `${principal.groups}` every one of the caller's.
 */
function variableValues(source: string, name: string, principal: Principal): string[] {
  if (source === 'token') return asStrings(principal.claims[name]).slice(0, 1);
  if (name === 'teams') return principal.teams ?? [];
  if (name === 'groups') return principal.groups ?? [];
  return [];
}

type Pieces = { text: string; wildcards: boolean }[];

/**
 * Every way the template reads for this caller, as pieces (literal template
 * text, substituted values); none when a variable has no value, so the value
 * matches nothing.
 */
function expansions(value: string, principal: Principal): Pieces[] {
  let results: Pieces[] = [[]];
  let at = 0;
  for (const found of value.matchAll(variable)) {
    const values = variableValues(found[1] as string, found[2] as string, principal);
    const literal = { text: value.slice(at, found.index), wildcards: true };
    results = results
      .flatMap((pieces) => values.map((text) => [...pieces, literal, { text, wildcards: false }]))
      .slice(0, maxExpansions);
    if (results.length === 0) return [];
    at = found.index + found[0].length;
  }
  return results.map((pieces) => [...pieces, { text: value.slice(at), wildcards: true }]);
}

/** The template's readings for this caller as plain strings (`StringEquals`, `/v1/whoami`). */
function substitute(value: string, principal: Principal): string[] {
  return expansions(value, principal).map((pieces) => pieces.map((p) => p.text).join(''));
}

/**
 * The template as globs: the policy author's `*` and `?` are wildcards, a
 * claim's are not, so a token claiming `acme/*` cannot widen `repository/${token.repository}`.
 */
function substituteGlobs(value: string, principal: Principal): Glob[] {
  if (!value.includes('${')) return [compileGlob(value)];
  return expansions(value, principal).map(globOf);
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
    test: (expected: string, principal: Principal) => ((a: string) => boolean) | undefined;
  }
> = {
  StringEquals: { negated: false, test: equalsTest },
  StringNotEquals: { negated: true, test: equalsTest },
  StringLike: { negated: false, test: likeTest },
  StringNotLike: { negated: true, test: likeTest },
};

function equalsTest(expected: string, principal: Principal) {
  const values = new Set(substitute(expected, principal));
  return values.size === 0 ? undefined : (actual: string) => values.has(actual);
}

function likeTest(expected: string, principal: Principal) {
  const globs = substituteGlobs(expected, principal);
  return globs.length === 0 ? undefined : (actual: string) => globs.some((glob) => matchGlob(glob, actual));
}

/** What a condition key names: a resource field, a token claim, or the caller's teams or groups. */
function actualValues(scope: string, path: string, principal: Principal, document?: Record<string, unknown>) {
  if (scope === 'token') return asStrings(principal.claims[path]);
  if (scope === 'principal') return variableValues('principal', path, principal);
  return asStrings(dotted(document ?? {}, path));
}

const usesResource = (statement: Statement) =>
  Object.values(statement.conditions ?? {}).some((block) =>
    Object.keys(block).some((k) => k.startsWith('resource.')),
  );

/** Whether every condition holds for one document (or none, when the statement tests no resource field). */
function conditionsHold(statement: Statement, principal: Principal, document?: Record<string, unknown>) {
  for (const [operator, block] of Object.entries(statement.conditions ?? {}) as [
    ConditionOperator,
    Record<string, string | string[]>,
  ][]) {
    const { negated, test } = compare[operator];
    for (const [key, expected] of Object.entries(block)) {
      const [scope, ...path] = key.split('.');
      if (scope === 'resource' && !document) return false;
      const actual = actualValues(scope as string, path.join('.'), principal, document);
      const tests = toList(expected)
        .map((value) => test(value, principal))
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
  const resourceFits = (template: string) =>
    substituteGlobs(template, principal).some((glob) => matchGlob(glob, resource));
  if (!statement.resources.some(resourceFits)) return false;
  if (!usesResource(statement) || documents.length === 0) return conditionsHold(statement, principal);
  const holds = (document: Record<string, unknown>) => conditionsHold(statement, principal, document);
  // A deny that fits either side of a change applies; an allow must fit both.
  return statement.effect === 'deny' ? documents.some(holds) : documents.every(holds);
}

export function authorize(request: AuthorizationRequest): Decision {
  const statements = statementsFor(request.principal, request.policies, request.settings).filter((s) =>
    applies(s, request),
  );
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

/** What the caller may do (`/v1/whoami`): applicable statements, with variables resolved for this caller. */
export function effectivePermissions(
  principal: Principal,
  policies: Policy[],
  settings: AuthorizationSettings = noSettings,
) {
  const resolved = statementsFor(principal, policies, settings).map(
    ({ source, statement }): EffectiveStatement & { effect: string } => {
      const conditions = statement.conditions
        ? Object.fromEntries(
            Object.entries(statement.conditions).map(([operator, block]) => [
              operator,
              Object.fromEntries(
                Object.entries(block).map(([key, value]) => [
                  key,
                  toList(value).flatMap((v) => {
                    const readings = substitute(v, principal);
                    return readings.length ? readings : [`${v} (no value for this caller: matches nothing)`];
                  }),
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
