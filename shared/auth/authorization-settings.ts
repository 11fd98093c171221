/**
 * The group built-ins a deployment turns on, from the API function's
 * environment: `ADMIN_GROUPS` (a JSON array of `<idp>:<group>` names, from the
 * `adminGroups` context) and `TEAM_MEMBERS_POLICY` (`on` to enable
 * `builtin/team-members`). A malformed value stops the function at start, with
 * the reason, rather than silently granting or withholding administration.
 */
import { z } from 'zod';
import type { AuthorizationSettings } from '#shared/auth/evaluate-policy';
import { groupName } from '#shared/catalog/entity-schemas';

const adminGroups = z.array(groupName).max(100);

export function authorizationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): AuthorizationSettings {
  const raw = env.ADMIN_GROUPS?.trim() || '[]';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`ADMIN_GROUPS is not JSON: expected an array such as ["okta:portolan-admins"]`);
  }
  const groups = adminGroups.safeParse(parsed);
  if (!groups.success)
    throw new Error(
      `ADMIN_GROUPS must be an array of "<idp>:<group>" names: ${groups.error.issues[0]?.message}`,
    );
  const flag = (env.TEAM_MEMBERS_POLICY ?? 'off').trim().toLowerCase();
  if (!['on', 'off', 'true', 'false', ''].includes(flag))
    throw new Error(`TEAM_MEMBERS_POLICY=${env.TEAM_MEMBERS_POLICY} must be "on" or "off"`);
  return { adminGroups: groups.data, teamMembersPolicy: flag === 'on' || flag === 'true' };
}
