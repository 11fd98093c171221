/** `portolan login` and `portolan logout`: the command line around cli/login.ts. */
import { AccessError } from '#cli/access-error';
import { describeToken, login, loginTarget, logout } from '#cli/login';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const exit = { ok: 0, invalid: 1, access: 3 } as const;

export async function loginCommand(
  command: 'login' | 'logout',
  values: {
    'api-url'?: string;
    issuer?: string;
    'client-id'?: string;
    scope?: string;
    device?: boolean;
    'no-browser'?: boolean;
    'callback-url'?: string;
    timeout?: string;
  },
  io: Io,
): Promise<number> {
  const timeoutSeconds = Number(values.timeout ?? 300);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) {
    io.err(`--timeout must be a whole number of seconds from 1 to 3600, not "${values.timeout}"`);
    return exit.invalid;
  }
  try {
    const target = loginTarget(
      { apiUrl: values['api-url'], issuer: values.issuer, clientId: values['client-id'] },
      io.env,
    );
    if (command === 'logout') {
      io.out(await logout(io.env, target.apiUrl));
      return exit.ok;
    }
    const cached = await login(target, {
      device: values.device === true,
      openBrowser: values['no-browser'] !== true,
      ...(values['callback-url'] ? { callbackUrl: values['callback-url'] } : {}),
      ...(values.scope ? { scope: values.scope } : {}),
      timeoutSeconds,
      say: io.err,
      env: io.env,
    });
    io.out(`Logged in to ${target.apiUrl} as ${describeToken(cached.accessToken)}`);
    return exit.ok;
  } catch (error) {
    if (!(error instanceof AccessError)) throw error;
    io.err(`error: ${error.message}`);
    return exit.access;
  }
}
