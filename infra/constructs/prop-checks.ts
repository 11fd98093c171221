/**
 * Checks of construct props at synth. A bad value fails `cdk synth` with an
 * error naming the construct, the prop and what it accepts, rather than
 * reaching CloudFormation (which refuses it at deploy, half-way through) or a
 * function's environment (where it becomes NaN).
 */
import type { Duration } from 'aws-cdk-lib';

const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function fail(construct: string, prop: string, accepts: string, value: unknown): never {
  throw new Error(`${construct}: ${prop} must be ${accepts} (got ${shown(value)})`);
}

/** A whole number from `min` to `max`, when given. */
export function checkWholeNumber(
  construct: string,
  prop: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max))
    fail(construct, prop, `a whole number from ${min} to ${max}`, value);
}

/** A positive, finite number, when given. */
export function checkPositive(construct: string, prop: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0))
    fail(construct, prop, 'a positive number', value);
}

/** A duration of whole `unit`s from `min` to `max` of them, when given. */
export function checkDuration(
  construct: string,
  prop: string,
  value: Duration | undefined,
  unit: 'seconds' | 'minutes' | 'days',
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  let amount = Number.NaN;
  try {
    amount =
      unit === 'seconds'
        ? value.toSeconds()
        : unit === 'minutes'
          ? value.toMinutes({ integral: false })
          : value.toDays({ integral: false });
  } catch {
    // A token or an amount that does not convert: refused below.
  }
  if (!(Number.isInteger(amount) && amount >= min && amount <= max))
    fail(construct, prop, `a whole number of ${unit} from ${min} to ${max}`, humanDuration(value));
}

function humanDuration(value: Duration): string {
  try {
    return value.toHumanString();
  } catch {
    return 'a duration that does not convert';
  }
}

/** One of `allowed`, when given. */
export function checkOneOf(
  construct: string,
  prop: string,
  value: string | undefined,
  allowed: readonly string[],
): void {
  if (value !== undefined && !allowed.includes(value))
    fail(construct, prop, `one of ${allowed.join(', ')}`, value);
}

/** An absolute URL with one of the `protocols`, when given. */
export function checkUrl(
  construct: string,
  prop: string,
  value: string | undefined,
  protocols: readonly string[] = ['https:'],
): void {
  if (value === undefined) return;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !protocols.includes(url.protocol))
    fail(construct, prop, `an absolute ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL`, value);
}

/** Set only together with `requiredProp`. */
export function checkRequires(
  construct: string,
  prop: string,
  value: unknown,
  requiredProp: string,
  required: unknown,
): void {
  if (value !== undefined && required === undefined)
    fail(construct, prop, `set only with ${requiredProp}`, value);
}

/** Matches `pattern` (described by `accepts`), when given. */
export function checkPattern(
  construct: string,
  prop: string,
  value: string | undefined,
  pattern: RegExp,
  accepts: string,
): void {
  if (value !== undefined && !pattern.test(value)) fail(construct, prop, accepts, value);
}
