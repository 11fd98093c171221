/**
 * A person's tokens, cached per API URL in the user's configuration directory
 * (`$XDG_CONFIG_HOME/portolan/credentials.json`, else `~/.config/portolan/`):
 * the directory 0700, the file 0600, replaced whole on every write.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AccessError } from '#cli/access-error';

export interface CachedLogin {
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  /** A private CA the issuer's certificate chains to (the local stack's dev CA). */
  caFile?: string;
  accessToken: string;
  refreshToken?: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export const credentialsFile = (env: NodeJS.ProcessEnv) =>
  join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'portolan', 'credentials.json');

/** One login per API: the URL without a trailing slash. */
export const apiKey = (apiUrl: string) => apiUrl.replace(/\/+$/, '');

export function readLogins(env: NodeJS.ProcessEnv): Record<string, CachedLogin> {
  const file = credentialsFile(env);
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, CachedLogin>;
  } catch {
    // Reported below.
  }
  throw new AccessError(`${file} is not a credentials file: remove it and run \`portolan login\` again`);
}

export function writeLogins(env: NodeJS.ProcessEnv, logins: Record<string, CachedLogin>) {
  const file = credentialsFile(env);
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export const cachedLogin = (env: NodeJS.ProcessEnv, apiUrl: string): CachedLogin | undefined =>
  readLogins(env)[apiKey(apiUrl)];

export function saveLogin(env: NodeJS.ProcessEnv, apiUrl: string, login: CachedLogin) {
  writeLogins(env, { ...readLogins(env), [apiKey(apiUrl)]: login });
}

export function forgetLogin(env: NodeJS.ProcessEnv, apiUrl: string): CachedLogin | undefined {
  const logins = readLogins(env);
  const login = logins[apiKey(apiUrl)];
  if (login) {
    delete logins[apiKey(apiUrl)];
    writeLogins(env, logins);
  }
  return login;
}
