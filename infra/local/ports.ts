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

/**
 * The Fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#port-blocking):
 * Node's `fetch`, which the demo seeding, the CLI and browsers use, refuses to
 * connect to them with nothing but "fetch failed".
 */
export const fetchBlockedPorts: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** Resolves the configured port, checking that it is free now (0 → a free port chosen by the OS). */
export async function claimPort({ variable, fallback }: PortRequest, env = process.env): Promise<number> {
  const raw = env[variable];
  const wanted = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65_535) {
    throw new Error(`${variable}=${raw} is not a port number (0-65535)`);
  }
  if (fetchBlockedPorts.has(wanted)) {
    throw new Error(
      `${variable}=${raw}: port ${wanted} is on the Fetch standard's list of blocked ("bad") ports, which Node's fetch (the demo seeding, the CLI) and browsers refuse to connect to; choose another port (0 = any free port)`,
    );
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
