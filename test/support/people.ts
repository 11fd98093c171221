/**
 * People's access tokens as the local issuer's interactive login and the
 * deployed pre-token trigger shape them (`groups` as `<idp>:<group>`, `email`,
 * `name`, the people app client), signed with the local issuer's real key so
 * the stack verifies them like any other.
 */

import type { LocalStackState } from './local-stack.ts';
import { mintToken } from './local-stack.ts';

export interface Person {
  sub: string;
  email?: string;
  name?: string;
  groups?: unknown;
  scope?: string;
}

export const personToken = (state: LocalStackState, person: Person) =>
  mintToken(state, {
    token_use: 'access',
    client_id: 'portolan-cli',
    scope: 'openid email profile portolan/catalog.read',
    ...person,
  });
