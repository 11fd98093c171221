/**
 * The API's error middleware (added last, so it sees every error): whatever was
 * thrown becomes an RFC 9457 `application/problem+json` response. Known errors
 * keep their status and detail; a dependency outage is a 503 with `Retry-After`
 * (counted, logged once per interval); anything else is a bug, logged and
 * answered as a 500 that reveals nothing internal.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import {
  DependencyUnavailable,
  isDependencyOutage,
  OutageLog,
  retryAfterSeconds,
} from '#shared/http/dependency-outage';
import { HttpProblem, problems } from '#shared/http/problem';
import { validationProblem } from '#shared/http/validation-problem';
import { StoreError } from '#shared/store/catalog-store';

/** Errors of middy's own middlewares (`@middy/util` createError) carry a statusCode and a cause. */
interface MiddyHttpError extends Error {
  statusCode: number;
  cause?: { package?: string; data?: unknown; message?: string };
}

const isMiddyHttpError = (e: unknown): e is MiddyHttpError =>
  e instanceof Error && typeof (e as MiddyHttpError).statusCode === 'number';

/**
 * The one mapping of a store error to its problem. A caller that knows more
 * (apply: what was already written) replaces the detail and adds extensions;
 * the error's own details are kept.
 */
export function storeProblem(
  error: StoreError,
  { detail = error.message, extensions = {} }: { detail?: string; extensions?: Record<string, unknown> } = {},
): HttpProblem {
  const all = { ...extensions, ...error.details };
  switch (error.code) {
    case 'not-found':
      return problems.notFound(detail, all);
    case 'precondition-failed':
      return problems.preconditionFailed(detail, all);
    case 'conflict':
      return problems.conflict(detail, all);
    case 'missing-reference':
      return problems.unprocessable(detail, all);
    case 'bad-cursor':
      return problems.badRequest(detail, all);
  }
}

function fromMiddyError(error: MiddyHttpError, event: APIGatewayProxyEventV2): HttpProblem {
  const pkg = error.cause?.package;
  if (pkg === '@middy/http-json-body-parser' && error.statusCode === 415) {
    return problems.unsupportedMediaType(
      `send the body as application/json (got ${event.headers?.['content-type'] ?? 'no Content-Type'})`,
    );
  }
  if (pkg === '@middy/http-json-body-parser') {
    return problems.badRequest(`the body is not valid JSON: ${error.cause?.message ?? 'it is empty'}`);
  }
  return new HttpProblem(error.statusCode, error.name, error.message);
}

export function toProblem(error: unknown, event: APIGatewayProxyEventV2): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof StoreError) return storeProblem(error);
  if (error instanceof z.ZodError) return validationProblem(error);
  if (isMiddyHttpError(error) && error.statusCode < 500) return fromMiddyError(error, event);
  return undefined;
}

/** The API's one AWS dependency: SDK errors that reach this middleware come from its tables. */
const storeDependency = 'DynamoDB';

export function problemJsonErrors(
  logger: Logger,
  metrics: Metrics,
): middy.MiddlewareObj<APIGatewayProxyEventV2> {
  const outages = new OutageLog({ logger, metrics });
  return {
    onError: (request) => {
      const { event, error } = request;
      let problem = toProblem(error, event);
      const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
      if (!problem && isDependencyOutage(error)) {
        outages.record(error instanceof DependencyUnavailable ? error.dependency : storeDependency, error);
        problem = problems.unavailable(
          `the catalog is unavailable right now; retry in ${retryAfterSeconds} s`,
          retryAfterSeconds,
        );
        headers['retry-after'] = String(retryAfterSeconds);
      }
      if (!problem) {
        logger.error('unhandled error', { error: error as Error });
        problem = new HttpProblem(
          500,
          'Internal Server Error',
          'the request failed inside Portolan; retry later',
        );
      }
      const body = { ...problem.toBody(), instance: event.requestContext?.requestId };
      request.response = {
        statusCode: problem.status,
        headers,
        body: JSON.stringify(body),
      } satisfies APIGatewayProxyStructuredResultV2;
    },
  };
}
