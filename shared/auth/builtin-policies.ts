/**
 * What each OAuth scope grants on its own, before any stored policy: the four
 * scopes of PRODUCT.md expressed as ordinary statements, so that one evaluator
 * decides everything and `/v1/whoami` can show them.
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
