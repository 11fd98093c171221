/**
 * RFC 9457 problem details: the one error shape of the API. Throw an
 * `HttpProblem` anywhere below a handler; the `problemJsonErrors` middleware
 * turns it (and every other error) into an `application/problem+json` response.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** A URI naming the kind of problem; `about:blank` when the status says it all. */
    readonly type = 'about:blank',
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }

  toBody(): ProblemBody {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...this.extensions,
    };
  }
}

const problemType = (name: string) => `urn:portolan:problem:${name}`;

/** Field-level validation failure, one entry per offending field (RFC 9457 §3.2 `errors`). */
export interface FieldError {
  pointer: string;
  detail: string;
}

export const problems = {
  badRequest: (detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(400, 'Bad Request', detail, extensions, problemType('bad-request')),
  validation: (detail: string, errors: FieldError[]) =>
    new HttpProblem(400, 'Invalid request', detail, { errors }, problemType('validation')),
  unauthorized: (detail: string) =>
    new HttpProblem(401, 'Unauthorized', detail, {}, problemType('unauthorized')),
  forbidden: (detail: string, decidedBy: string) =>
    new HttpProblem(403, 'Forbidden', detail, { decidedBy }, problemType('forbidden')),
  notFound: (detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(404, 'Not Found', detail, extensions, problemType('not-found')),
  methodNotAllowed: (detail: string) => new HttpProblem(405, 'Method Not Allowed', detail),
  conflict: (detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(409, 'Conflict', detail, extensions, problemType('conflict')),
  preconditionFailed: (detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(412, 'Precondition Failed', detail, extensions, problemType('precondition-failed')),
  tooLarge: (detail: string) =>
    new HttpProblem(413, 'Content Too Large', detail, {}, problemType('too-large')),
  unsupportedMediaType: (detail: string) =>
    new HttpProblem(415, 'Unsupported Media Type', detail, {}, problemType('unsupported-media-type')),
  unprocessable: (detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(422, 'Unprocessable Content', detail, extensions, problemType('unprocessable')),
  unavailable: (detail: string, retryAfterSeconds: number) =>
    new HttpProblem(503, 'Service Unavailable', detail, { retryAfterSeconds }, problemType('unavailable')),
};
