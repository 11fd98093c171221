/**
 * The catalog's entities as zod schemas: the one source for request validation,
 * the TypeScript types, the API's field-level error messages and the JSON Schema
 * that catalog files reference for editor completion.
 */
import { z } from 'zod';

/** Lower-case slug ids for teams, services, environments and policies. */
export const slugId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,127}$/,
    'must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
  );

/** Repository ids are URL-like: host/owner/name, without a scheme (`github.com/acme/checkout`). */
export const repositoryId = z
  .string()
  .max(256)
  .regex(
    /^[a-z0-9][a-z0-9.-]*(\/[A-Za-z0-9._-]+)+$/,
    'must look like host/owner/name without a scheme, e.g. github.com/acme/checkout',
  );

const shortText = z.string().min(1).max(256);
const httpsUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);

export const contacts = z.strictObject({
  slack: z
    .string()
    .regex(/^#[a-z0-9._-]{1,80}$/, 'must be a channel name like #payments')
    .optional(),
  email: z.email().optional(),
  oncall: shortText.optional(),
  pager: shortText.optional(),
  chat: httpsUrl.optional(),
});

/** How many identity-provider groups one team may list. */
export const maxGroupsPerTeam = 50;

/**
 * An identity-provider group as the `groups` claim carries it: the provider's
 * configured name, a colon, and the group as the provider sends it (which may
 * hold spaces, but no control characters).
 */
export const groupName = z
  .string()
  .max(256)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[^\p{Cc}]+$/u,
    'must be "<identity provider>:<group>", e.g. okta:payments-eng (at most 256 characters, no control characters)',
  );

export const team = z.strictObject({
  id: slugId,
  name: shortText,
  description: z.string().max(2048).optional(),
  contacts: contacts.default({}),
  parent: slugId.optional(),
  /** Members of these groups are members of the team (`${principal.teams}` in policies). */
  groups: z
    .array(groupName)
    .max(maxGroupsPerTeam)
    .refine((groups) => new Set(groups).size === groups.length, { message: 'groups must be unique' })
    .optional(),
});

export const selectorMatch = z.enum(['exact', 'prefix', 'glob']);

/** A rule that maps telemetry to a service when `service.name` alone does not. */
export const selector = z.strictObject({
  attribute: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9_.@/-]+$/, 'must be an attribute key such as k8s.namespace.name'),
  match: selectorMatch,
  value: z.string().min(1).max(1024),
});

export const lifecycle = z.enum(['experimental', 'development', 'production', 'deprecated', 'retired']);
export const dataClassification = z.enum(['public', 'internal', 'confidential', 'restricted']);

export const service = z.strictObject({
  id: slugId,
  name: shortText.optional(),
  description: z.string().max(2048).optional(),
  team: slugId,
  repository: repositoryId.optional(),
  tier: z
    .string()
    .regex(/^tier-[0-9]$/, 'must be tier-0 … tier-9')
    .optional(),
  lifecycle: lifecycle.optional(),
  runbook: httpsUrl.optional(),
  dashboards: z.array(httpsUrl).max(20).optional(),
  dataClassification: dataClassification.optional(),
  complianceScopes: z.array(z.string().min(1).max(64)).max(20).optional(),
  environments: z.array(slugId).max(20).optional(),
  selectors: z.array(selector).max(50).optional(),
});

export const repository = z.strictObject({
  id: repositoryId,
  team: slugId,
  url: httpsUrl.optional(),
  defaultBranch: shortText.optional(),
});

export const environment = z.strictObject({
  id: slugId,
  name: shortText.optional(),
  cloud: z.strictObject({
    provider: z.enum(['aws', 'gcp', 'azure', 'on-prem', 'other']),
    accountId: z.string().min(1).max(64).optional(),
    region: z.string().min(1).max(64).optional(),
  }),
  cluster: shortText.optional(),
});

export type Team = z.infer<typeof team>;
export type Service = z.infer<typeof service>;
export type Selector = z.infer<typeof selector>;
export type Repository = z.infer<typeof repository>;
export type Environment = z.infer<typeof environment>;
