/** Turns a zod error into a 400 problem whose `errors` point at each offending field. */
import type { z } from 'zod';
import { type HttpProblem, problems } from '#shared/http/problem';

const pointer = (path: readonly PropertyKey[]) =>
  `/${path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

export function validationProblem(error: z.ZodError, what = 'request body'): HttpProblem {
  const errors = error.issues.map((issue) => ({
    pointer: issue.path.length ? pointer(issue.path) : '/',
    detail: issue.message,
  }));
  const first = errors[0];
  const summary = first ? `${first.pointer}: ${first.detail}` : 'invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return problems.validation(`The ${what} is invalid: ${summary}${more}`, errors);
}
