/**
 * Reads the caller the authorizer verified and puts it on the Lambda context as
 * `principal`. A refused token arrives as the authorizer's `authError` and is
 * answered here with a precise 401. The token's expiry is checked again because
 * API Gateway caches authorizer results per token, possibly beyond `exp`.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, Context } from 'aws-lambda';
import type { AuthorizerContext, Principal } from '#shared/auth/principal';
import { problems } from '#shared/http/problem';

export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;
export type ApiContext = Context & { principal: Principal };

export function requirePrincipal(
  now: () => Date = () => new Date(),
): middy.MiddlewareObj<ApiEvent, unknown, Error, ApiContext> {
  return {
    before: (request) => {
      const authorizer = request.event.requestContext.authorizer?.lambda;
      if (!authorizer) throw problems.unauthorized('missing bearer token: send Authorization: Bearer <JWT>');
      if ('authError' in authorizer) throw problems.unauthorized(authorizer.authError);
      const principal = JSON.parse(authorizer.principal) as Principal;
      const exp = principal.claims.exp;
      if (typeof exp === 'number' && exp * 1000 <= now().getTime()) {
        throw problems.unauthorized(
          `token expired at ${new Date(exp * 1000).toISOString()}; request a new one`,
        );
      }
      request.context.principal = principal;
    },
  };
}
