/**
 * Whole numbers from a function's environment, read once at init. `Number()`
 * turns `60s` into NaN, `''` into 0 and `0x3c` into 60, and a NaN TTL quietly
 * means "never cached": here anything but plain digits within the bounds fails
 * the cold start with a message naming the variable and what it accepts.
 */
export interface WholeNumberBounds {
  /** @default 0 */
  min?: number;
  /** @default Number.MAX_SAFE_INTEGER */
  max?: number;
  /** What the number is, for the error message (e.g. "seconds"). */
  meaning?: string;
}

const digitsOnly = /^[0-9]+$/;

/** The variable's whole number, or `fallback` when it is not set; anything else set throws. */
export function wholeNumberFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  bounds: WholeNumberBounds = {},
): number {
  return optionalWholeNumberFromEnv(env, name, bounds) ?? fallback;
}

/** The variable's whole number, or undefined when it is not set; anything else set throws. */
export function optionalWholeNumberFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER, meaning }: WholeNumberBounds = {},
): number | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = digitsOnly.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new Error(
      `environment variable ${name}=${JSON.stringify(raw)} must be a whole number ${range}` +
        (meaning ? ` (${meaning})` : ''),
    );
  }
  return value;
}
