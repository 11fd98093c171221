/**
 * IAM-like access policies (docs/api.md, "Authorization"): who a policy applies to,
 * and statements with effect, actions, resources and conditions that compare
 * resource fields with token claims. One schema validates `PUT /v1/policies/{id}`
 * and types the evaluator.
 */
import { z } from 'zod';
import { slugId } from '#shared/catalog/entity-schemas';

/** A value that may use policy variables: `${principal.*}` must name one the evaluator knows. */
const templated = z
  .string()
  .min(1)
  .refine(
    (value) =>
      [...value.matchAll(/\$\{principal\.([^}]*)\}/g)].every(
        ([, name]) => name === 'teams' || name === 'groups',
      ),
    {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: names the policy variables
      message: 'the only principal variables are ${principal.teams} and ${principal.groups}',
    },
  );

const oneOrMany = z.union([templated, z.array(templated).min(1)]);

export const conditionOperators = ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike'] as const;
export type ConditionOperator = (typeof conditionOperators)[number];

/** `resource.<dotted field of the entity document>`, `token.<claim>`, `principal.teams` or `principal.groups`. */
const conditionKey = z
  .string()
  .regex(
    /^(resource|token)\.[A-Za-z0-9_:.-]+$|^principal\.(teams|groups)$/,
    'must be "resource.<field>", "token.<claim>", "principal.teams" or "principal.groups"',
  );

const conditionBlock = z.record(conditionKey, oneOrMany);

export const statementSchema = z.strictObject({
  sid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
  effect: z.enum(['allow', 'deny']),
  /** Action globs, e.g. `catalog:Put*`. */
  actions: z
    .array(z.string().regex(/^[a-z*?]+(:[A-Za-z*?]+)?$|^\*$/, 'must look like "catalog:PutService"'))
    .min(1),
  /** Resource globs, e.g. `service/*`, `repository/github.com/acme/*`. */
  resources: z.array(templated).min(1),
  /** Every operator and key must hold; several values for one key mean "any of them". */
  conditions: z.partialRecord(z.enum(conditionOperators), conditionBlock).optional(),
});

export const policySchema = z
  .strictObject({
    id: slugId,
    description: z.string().max(1024).optional(),
    /** Claim globs the caller's token must match (all of them); absent means every caller. */
    principal: z.record(z.string().min(1), oneOrMany).optional(),
    statements: z.array(statementSchema).min(1).max(100),
  })
  .refine((p) => new Set(p.statements.map((s) => s.sid)).size === p.statements.length, {
    message: 'statement sids must be unique within a policy',
    path: ['statements'],
  });

export type Statement = z.infer<typeof statementSchema>;
export type Policy = z.infer<typeof policySchema>;
