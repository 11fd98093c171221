/**
 * Cognito pre-token-generation trigger (event version 2): puts a person's
 * `groups` (`<idp-name>:<group>`), `email` and `name` into their access token.
 * It calls no AWS service. See `shared/auth/pre-token-claims.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  claimsOverride,
  type PreTokenEventV2,
  personClaims,
  providerNamesFromEnv,
} from '#shared/auth/pre-token-claims';

type Event = PreTokenEventV2 & { response: { claimsAndScopeOverrideDetails: unknown } };

export function makePreTokenHandler(providers: readonly string[], logger: Logger) {
  return async (event: Event): Promise<Event> => {
    const claims = personClaims(event, providers);
    // Counts only: group names and addresses are personal data and stay out of the logs.
    logger.info('token claims', { triggerSource: event.triggerSource, groups: claims.groups.length });
    event.response.claimsAndScopeOverrideDetails = claimsOverride(claims);
    return event;
  };
}

export const handler = makePreTokenHandler(providerNamesFromEnv(), new Logger());
