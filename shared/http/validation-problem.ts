/** Turns a zod error into a 400 problem whose `errors` point at each offending field. */
import type { z } from 'zod';
import { type FieldError, type HttpProblem, problems } from '#shared/http/problem';

/** RFC 6901 JSON Pointer to a field. */
const pointer = (path: readonly PropertyKey[]) =>
  `/${path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/** One entry per field; an unknown-fields issue becomes one entry per unknown field. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ pointer: pointer([...issue.path, key]), detail: 'unknown field' }))
      : [{ pointer: pointer(issue.path), detail: issue.message }],
  );
}

export function validationProblem(error: z.ZodError, what = 'request body'): HttpProblem {
  const errors = fieldErrors(error);
  const first = errors[0];
  const summary = first ? `${first.pointer}: ${first.detail}` : 'invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return problems.validation(`The ${what} is invalid: ${summary}${more}`, errors);
}
