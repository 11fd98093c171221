/** Port handling for the local stack: a busy port is a one-line error, never a hang. */
import { createServer } from 'node:net';

export interface PortRequest {
  /** The environment variable that configures this port, named in errors. */
  variable: string;
  /** Port to use when the variable is unset; 0 picks any free port. */
  fallback: number;
}

export class PortInUse extends Error {
  override name = 'PortInUse';
}

/** Resolves the configured port, checking that it is free now (0 → a free port chosen by the OS). */
export async function claimPort({ variable, fallback }: PortRequest, env = process.env): Promise<number> {
  const raw = env[variable];
  const wanted = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65_535) {
    throw new Error(`${variable}=${raw} is not a port number (0-65535)`);
  }
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUse(
              `port ${wanted} is already in use: stop what holds it, or set ${variable} to another port (0 = any free port)`,
            )
          : error,
      );
    });
    probe.listen(wanted, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : wanted;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it succeeds, `timeoutMs` passes, or `signal` aborts (the caller lost interest). */
export async function waitUntil(
  what: string,
  probe: () => Promise<unknown>,
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s: ${String(lastError)}`);
}
