/**
 * From a telemetry source's attributes to its ownership context — pure, over a
 * snapshot of the catalog. Order: `service.name` naming a catalog service
 * (with `deployment.environment.name` picking the environment), else the
 * services' selectors (see selector-matcher.ts for precedence), else unowned.
 * The match is walked service → team → repository → environment. Anything the
 * snapshot could not load makes the answer `unresolved`, never a guess.
 */
import type { Environment, Repository, Service, Team } from '#shared/catalog/entity-schemas';
import {
  describeMatch,
  type OwnershipMatch,
  type OwnershipResult,
  type SourceAttributes,
} from '#shared/ownership/ownership-context';
import type { SelectorMatcher } from '#shared/ownership/selector-matcher';

/** `undefined`: not in the catalog; `unavailable`: the catalog could not be read. */
export type Lookup<T> = T | undefined | 'unavailable';

export interface CatalogSnapshot {
  service(id: string): Lookup<Service>;
  team(id: string): Lookup<Team>;
  repository(id: string): Lookup<Repository>;
  environment(id: string): Lookup<Environment>;
  selectors(): SelectorMatcher | 'unavailable';
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The attribute names that say which environment a source runs in (current and older semconv). */
export const environmentAttributes = ['deployment.environment.name', 'deployment.environment'];

const unresolved = (reason: string): OwnershipResult => ({
  status: 'unresolved',
  match: { rule: 'none' },
  attributes: { 'ownership.status': 'unresolved', 'ownership.match': `unresolved:${reason}` },
});

export function resolveOwnership(attributes: SourceAttributes, catalog: CatalogSnapshot): OwnershipResult {
  const serviceName = first(attributes['service.name']);
  let match: OwnershipMatch | undefined;
  let service: Lookup<Service>;
  if (serviceName) {
    service = catalog.service(serviceName);
    if (service === 'unavailable') return unresolved('catalog unavailable');
    if (service) match = { rule: 'service.name', service: service.id };
  }
  if (!match) {
    const selectors = catalog.selectors();
    if (selectors === 'unavailable') return unresolved('catalog unavailable');
    match = selectors.match(attributes);
    if (!match?.service) {
      return {
        status: 'unowned',
        match: { rule: 'none' },
        attributes: { 'ownership.status': 'unowned', 'ownership.match': 'none' },
      };
    }
    service = catalog.service(match.service);
    if (service === 'unavailable') return unresolved('catalog unavailable');
    // A selector of a service deleted since the matcher was built.
    if (!service)
      return {
        status: 'unowned',
        match: { rule: 'none' },
        attributes: { 'ownership.status': 'unowned', 'ownership.match': 'none' },
      };
  }
  const owned = service as Service;
  const team = catalog.team(owned.team);
  const repository = owned.repository ? catalog.repository(owned.repository) : undefined;
  const environmentId = pickEnvironment(attributes, owned);
  const environment = environmentId ? catalog.environment(environmentId) : undefined;
  if (team === 'unavailable' || repository === 'unavailable' || environment === 'unavailable') {
    return unresolved('catalog unavailable');
  }
  if (environmentId && environment) match.environment = environmentId;

  const context: Record<string, string | undefined> = {
    'ownership.status': 'owned',
    'ownership.match': describeMatch(match),
    'ownership.service': owned.id,
    'ownership.service.name': owned.name,
    'ownership.team': owned.team,
    'ownership.team.name': team?.name,
    'ownership.contact.slack': team?.contacts?.slack,
    'ownership.contact.email': team?.contacts?.email,
    'ownership.contact.oncall': team?.contacts?.oncall,
    'ownership.repository': owned.repository,
    'ownership.repository.url': repository?.url,
    'ownership.tier': owned.tier,
    'ownership.lifecycle': owned.lifecycle,
    'ownership.runbook.url': owned.runbook,
    'ownership.data_classification': owned.dataClassification,
    'ownership.compliance_scopes': owned.complianceScopes?.join(','),
    'ownership.environment': environment ? environmentId : undefined,
    'ownership.cloud.account.id': environment?.cloud?.accountId,
  };
  return {
    status: 'owned',
    match,
    attributes: Object.fromEntries(
      Object.entries(context).filter((e): e is [string, string] => e[1] !== undefined),
    ),
  };
}

/** The environment the record names, if the service runs there; else the service's only environment. */
function pickEnvironment(attributes: SourceAttributes, service: Service): string | undefined {
  const named = environmentAttributes.map((a) => first(attributes[a])).find(Boolean);
  const known = service.environments ?? [];
  if (named && known.includes(named)) return named;
  return known.length === 1 ? known[0] : undefined;
}
