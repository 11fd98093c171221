/**
 * Authorization for the API: loads the stored policies (briefly cached per
 * container, dropped when this container changes one), resolves a person's
 * teams from their groups, and asks the pure policy engine; a refusal becomes a
 * 403 that names the deciding statement.
 */
import { type AuthorizationSettings, authorize, effectivePermissions } from '#shared/auth/evaluate-policy';
import type { Policy } from '#shared/auth/policy-schema';
import type { Principal } from '#shared/auth/principal';
import type { TeamMembership } from '#shared/auth/team-membership';
import { problems } from '#shared/http/problem';
import type { CatalogStore } from '#shared/store/catalog-store';
import { listEvery } from '#shared/store/list-every';

export interface AccessControl {
  /** Throws a 403 unless `principal` may do `action` on `resource` (conditions tested on each document). */
  require(
    principal: Principal,
    action: string,
    resource: string,
    documents?: Record<string, unknown>[],
  ): Promise<void>;
  /** The decision without throwing, for per-entity reports (apply). */
  decide(
    principal: Principal,
    action: string,
    resource: string,
    documents?: Record<string, unknown>[],
  ): Promise<ReturnType<typeof authorize>>;
  permissions(principal: Principal): Promise<ReturnType<typeof effectivePermissions>>;
  /** The principal with its groups and the teams they make it a member of. */
  identify(principal: Principal): Promise<Principal>;
  /** Forget cached policies and team memberships (after this container wrote one). */
  invalidate(): void;
}

export interface PeopleAccess {
  /** Where a person's teams come from; without it, nobody is on a team. */
  membership?: TeamMembership;
  settings?: AuthorizationSettings;
}

export function makeAccessControl(
  store: CatalogStore,
  ttlMs = 5_000,
  now = () => Date.now(),
  { membership, settings }: PeopleAccess = {},
): AccessControl {
  const identify = (principal: Principal) =>
    membership ? membership.withTeams(principal) : Promise.resolve(principal);
  let cached: { policies: Policy[]; at: number } | undefined;

  async function policies(): Promise<Policy[]> {
    if (cached && now() - cached.at < ttlMs) return cached.policies;
    const loaded = (await listEvery(store, 'policy')).map((e) => e.doc as unknown as Policy);
    cached = { policies: loaded, at: now() };
    return loaded;
  }

  const decide: AccessControl['decide'] = async (principal, action, resource, documents = []) => {
    const [caller, loaded] = await Promise.all([identify(principal), policies()]);
    return authorize({
      principal: caller,
      action,
      resource,
      documents,
      policies: loaded,
      ...(settings ? { settings } : {}),
    });
  };

  return {
    decide,
    identify,
    async require(principal, action, resource, documents) {
      const decision = await decide(principal, action, resource, documents);
      if (!decision.allowed) {
        throw problems.forbidden(
          `${action} on ${resource} is not allowed: ${decision.reason}`,
          decision.decidedBy,
        );
      }
    },
    async permissions(principal) {
      const [caller, loaded] = await Promise.all([identify(principal), policies()]);
      return effectivePermissions(caller, loaded, settings);
    },
    invalidate() {
      cached = undefined;
      membership?.invalidate();
    },
  };
}
