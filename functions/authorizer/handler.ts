/**
 * HTTP API Lambda authorizer (REQUEST type, simple responses). It always
 * authorizes and passes either the verified principal or the precise reason the
 * token was refused: HTTP APIs cannot customise their own 401 body, so the API
 * answers the refusal as an RFC 9457 problem that tells the caller what to fix.
 * API Gateway caches the result per token (identity source: Authorization).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import type { AuthorizerContext } from '#shared/auth/principal';
import { TokenRejected, type TokenVerifier, tokenVerifierFromEnv } from '#shared/auth/token-verifier';

export interface AuthorizerDeps {
  verifier: TokenVerifier;
  logger: Logger;
}

type Result = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

const bearer = /^Bearer +([^ ]+) *$/i;

export function makeAuthorizerHandler({ verifier, logger }: AuthorizerDeps) {
  const refuse = (authError: string): Result => {
    logger.info('token refused', { authError });
    return { isAuthorized: true, context: { authError } };
  };

  return middy<APIGatewayRequestAuthorizerEventV2, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const header = event.headers?.authorization;
      if (!header) return refuse('missing bearer token: send "Authorization: Bearer <JWT>"');
      const token = bearer.exec(header)?.[1];
      if (!token) return refuse('malformed Authorization header: expected "Bearer <JWT>"');
      try {
        const principal = await verifier.verify(token);
        logger.appendKeys({ issuer: principal.issuer, subject: principal.subject });
        return { isAuthorized: true, context: { principal: JSON.stringify(principal) } };
      } catch (error) {
        if (error instanceof TokenRejected) return refuse(error.message);
        throw error;
      }
    });
}

export const handler = makeAuthorizerHandler({ verifier: tokenVerifierFromEnv(), logger: new Logger() });
