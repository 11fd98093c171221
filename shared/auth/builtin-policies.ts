/**
 * What each OAuth scope grants on its own, before any stored policy: the four
 * scopes expressed as ordinary statements, so that one evaluator decides
 * everything and `/v1/whoami` can show them. Then the built-ins that follow a
 * person's groups: administrators (`ADMIN_GROUPS`) and, when the deployment
 * turns it on (`TEAM_MEMBERS_POLICY`), team members.
 */

import type { Statement } from '#shared/auth/policy-schema';
import type { PortolanScope } from '#shared/auth/principal';

export const builtinPolicies: Record<PortolanScope, Statement[]> = {
  'portolan/catalog.read': [
    {
      sid: 'ReadCatalog',
      effect: 'allow',
      actions: ['catalog:Get*', 'catalog:List*', 'catalog:Resolve', 'catalog:ListUnowned'],
      resources: ['*'],
    },
  ],
  'portolan/catalog.write': [
    {
      sid: 'WriteCatalog',
      effect: 'allow',
      actions: ['catalog:Put*', 'catalog:Delete*', 'catalog:Apply'],
      resources: ['*'],
    },
  ],
  'portolan/audit.read': [{ sid: 'ReadAudit', effect: 'allow', actions: ['audit:*'], resources: ['*'] }],
  'portolan/admin': [{ sid: 'Administer', effect: 'allow', actions: ['*'], resources: ['*'] }],
};

/** `builtin/admin-group`: members of a group listed in `ADMIN_GROUPS` administer Portolan. */
export const adminGroupStatements: Statement[] = [
  { sid: 'AdminGroupAdministers', effect: 'allow', actions: ['*'], resources: ['*'] },
];

/**
 * `builtin/team-members`: a person may create, change and delete the services
 * and repositories of the teams their groups make them a member of. Both the
 * stored and the proposed document must name one of their teams, so nobody
 * moves an entity to, or takes one from, another team. `catalog:Apply` lets
 * them send catalog documents, each entity of which is then decided alone.
 * Claiming catch-all telemetry (`catalog:ClaimTelemetry`) and changing teams
 * themselves (and their groups) stay with administrators.
 */
export const teamMembersStatements: Statement[] = [
  {
    sid: 'TeamMembersChangeTheirTeamsEntities',
    effect: 'allow',
    actions: [
      'catalog:PutService',
      'catalog:DeleteService',
      'catalog:PutRepository',
      'catalog:DeleteRepository',
    ],
    resources: ['service/*', 'repository/*'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
    conditions: { StringEquals: { 'resource.team': '${principal.teams}' } },
  },
  { sid: 'TeamMembersApply', effect: 'allow', actions: ['catalog:Apply'], resources: ['*'] },
];
