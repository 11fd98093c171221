/**
 * `.portolan/local.json` (or `PORTOLAN_LOCAL_STATE`): what a running local
 * stack tells its clients. Shared so that the CLI can find a local stack
 * without loading any of the stack's own code.
 */
import { existsSync, readFileSync } from 'node:fs';

export type LocalClientName = 'ci' | 'admin' | 'reader';

export interface LocalClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

/** A dev user of the local issuer: signs in with `portolan login`. */
export interface LocalUser {
  sub: string;
  password: string;
  /** `<idp>:<group>`, as the deployed stack's token trigger shapes a person's groups. */
  groups: string[];
  email: string;
  name: string;
}

/** The stack's endpoints plus what local clients need to trust and reach it. */
export interface LocalStackState {
  apiUrl: string;
  issuer: string;
  tokenUrl: string;
  clients: Record<LocalClientName, LocalClient>;
  /** The public client people sign in with (`portolan login`). */
  peopleClientId?: string;
  /** Dev users by username, their passwords generated at first start. */
  users?: Record<string, LocalUser>;
  region: string;
  kinesis: { endpoint: string; inputStream: string; outputStream: string };
  dynamodb: { endpoint: string; tables: { catalog: string; audit: string } };
  /** The dev CA the issuer's certificate chains to (PEM file). */
  caFile: string;
  /** The `aud` the API accepts. */
  audience: string;
  /** Generated credentials the local AWS emulators accept. */
  aws: { accessKeyId: string; secretAccessKey: string };
}

export const localStateFile = (env: NodeJS.ProcessEnv = process.env) =>
  env.PORTOLAN_LOCAL_STATE ?? '.portolan/local.json';

/** The running local stack's state; undefined when none is running here. */
export function readLocalState(env: NodeJS.ProcessEnv = process.env): LocalStackState | undefined {
  const file = localStateFile(env);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalStackState) : undefined;
}
