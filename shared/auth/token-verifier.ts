/**
 * Verifies bearer tokens from every trusted issuer at once: the stack's Cognito
 * user pool and any number of OIDC issuers (GitHub Actions, Okta, Entra ID...).
 * `aws-jwt-verify` does the cryptography and claim checks; this module picks the
 * verifier by the token's `iss` and turns every refusal into a sentence a CI
 * author can act on. JWKS are fetched once per issuer and cached per container.
 */
import { readFileSync } from 'node:fs';
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import { z } from 'zod';
import type { Principal } from '#shared/auth/principal';
import { principalFromClaims } from '#shared/auth/principal-claims';

const nonEmptyStrings = z.array(z.string().min(1)).min(1);

export const trustedIssuersSchema = z
  .array(
    z.discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('cognito'),
        userPoolId: z.string().regex(/^[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]+$/, 'must be a Cognito user pool id'),
        /** App clients whose tokens are accepted; null accepts every client of the pool. */
        clientId: nonEmptyStrings.nullable(),
        tokenUse: z.enum(['access', 'id']).default('access'),
      }),
      z.strictObject({
        type: z.literal('oidc'),
        issuer: z.url({ protocol: /^https$/ }),
        audience: nonEmptyStrings,
        /** Defaults to `<issuer>/.well-known/jwks.json`; set it from the issuer's discovery document otherwise. */
        jwksUri: z.url({ protocol: /^https$/ }).optional(),
      }),
    ]),
  )
  .min(1);

export type TrustedIssuer = z.infer<typeof trustedIssuersSchema>[number];

/** A token was refused; `message` says why in words meant for the caller. */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Clock skew tolerated on `exp`/`nbf` between the issuer and Lambda. */
const graceSeconds = 5;

const cognitoIssuers = (userPoolId: string) => {
  const region = userPoolId.split('_')[0];
  return [
    `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
    `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`,
  ];
};

type Verify = (token: string) => Promise<Record<string, unknown>>;

/**
 * @param caPem extra CA certificates the JWKS fetcher trusts (the local stack's
 *   dev CA); verification itself is never relaxed.
 */
export function makeTokenVerifier(issuers: TrustedIssuer[], caPem?: string): TokenVerifier {
  const jwksCache = new SimpleJwksCache({
    fetcher: new SimpleFetcher(caPem ? { defaultRequestOptions: { ca: caPem } } : undefined),
  });
  const byIssuer = new Map<string, Verify>();
  for (const trusted of issuers) {
    if (trusted.type === 'cognito') {
      const verifier = CognitoJwtVerifier.create(
        {
          userPoolId: trusted.userPoolId,
          tokenUse: trusted.tokenUse,
          clientId: trusted.clientId,
          graceSeconds,
        },
        { jwksCache },
      );
      const verify: Verify = async (token) => ({ ...(await verifier.verify(token)) });
      for (const issuer of cognitoIssuers(trusted.userPoolId)) byIssuer.set(issuer, verify);
    } else {
      const verifier = JwtVerifier.create(
        {
          issuer: trusted.issuer,
          audience: trusted.audience,
          jwksUri: trusted.jwksUri ?? `${trusted.issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
          graceSeconds,
        },
        { jwksCache },
      );
      byIssuer.set(trusted.issuer, async (token) => ({ ...(await verifier.verify(token)) }));
    }
  }

  return {
    async verify(token) {
      let issuer: unknown;
      try {
        issuer = decomposeUnverifiedJwt(token).payload.iss;
      } catch (error) {
        throw new TokenRejected(`malformed token: ${(error as Error).message}`);
      }
      const verify = typeof issuer === 'string' ? byIssuer.get(issuer) : undefined;
      if (!verify) {
        const trusted = [...byIssuer.keys()].join(', ');
        throw new TokenRejected(
          `issuer ${JSON.stringify(issuer ?? null)} is not trusted (trusted: ${trusted})`,
        );
      }
      try {
        return principalFromClaims(await verify(token));
      } catch (error) {
        throw new TokenRejected(refusalReason(error));
      }
    },
  };
}

const listed = (value: unknown) =>
  (Array.isArray(value) ? value : [value]).map((v) => JSON.stringify(v ?? null)).join(' or ');

/** The library's own messages are precise; these add what the caller should check next. */
function refusalReason(error: unknown): string {
  if (error instanceof JwtExpiredError) return `${error.message}; request a new token`;
  if (error instanceof JwtNotBeforeError) {
    return `token not valid before ${new Date(Number(error.failedAssertion.actual) * 1000).toISOString()}`;
  }
  if (error instanceof JwtInvalidAudienceError || error instanceof CognitoJwtInvalidClientIdError) {
    const { actual, expected } = error.failedAssertion;
    return `audience ${listed(actual)} is not accepted (expected ${listed(expected)})`;
  }
  if (error instanceof CognitoJwtInvalidTokenUseError) {
    return `token_use ${JSON.stringify(error.failedAssertion.actual)} is not accepted (expected ${JSON.stringify(error.failedAssertion.expected)})`;
  }
  if (error instanceof JwtInvalidSignatureAlgorithmError) {
    return `signature algorithm ${JSON.stringify(error.failedAssertion.actual)} is not accepted (expected ${JSON.stringify(error.failedAssertion.expected)})`;
  }
  if (error instanceof JwtInvalidSignatureError) return 'signature verification failed';
  if (error instanceof KidNotFoundInJwksError) return `${error.message}: the key is unknown to the issuer`;
  if (error instanceof FetchError) return `the issuer's signing keys could not be fetched: ${error.message}`;
  if (error instanceof JwtParseError) return `malformed token: ${error.message}`;
  if (error instanceof JwtBaseError) return error.message;
  throw error;
}

/** The verifier a Lambda builds from `TRUSTED_ISSUERS` (and, only in the local stack, `JWKS_CA_FILE`). */
export function tokenVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const raw = env.TRUSTED_ISSUERS;
  if (!raw) throw new Error('TRUSTED_ISSUERS is not set');
  const issuers = trustedIssuersSchema.parse(JSON.parse(raw));
  return makeTokenVerifier(issuers, env.JWKS_CA_FILE ? readFileSync(env.JWKS_CA_FILE, 'utf8') : undefined);
}
