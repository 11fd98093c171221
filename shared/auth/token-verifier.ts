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
import { optionalWholeNumberFromEnv } from '#shared/config/env-numbers';

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
        /**
         * Accept tokens whose `aud` lists several audiences. Off by default: a token
         * minted for several services can be replayed against each of them.
         */
        allowMultipleAudiences: z.boolean().optional(),
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

/** The longest a token may still be valid when it is presented, unless configured otherwise. */
export const defaultMaxTokenLifetimeSeconds = 24 * 60 * 60;

export interface TokenVerifierOptions {
  /**
   * Extra CA certificates the JWKS fetcher trusts (the local stack's dev CA);
   * verification itself is never relaxed.
   */
  caPem?: string;
  /** A token whose `exp` is further away than this is refused. @default 24 hours */
  maxLifetimeSeconds?: number;
}

/**
 * JWS header parameters this verifier understands and enforces. RFC 7515 §4.1.11:
 * a token whose `crit` lists anything else must be refused. None is an extension
 * that changes how a token is verified, so the list is empty.
 */
const understoodCriticalHeaders: ReadonlySet<string> = new Set();

const cognitoIssuers = (userPoolId: string) => {
  const region = userPoolId.split('_')[0];
  return [
    `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
    `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`,
  ];
};

type Verify = (token: string) => Promise<Record<string, unknown>>;

interface IssuerVerifier {
  verify: Verify;
  allowMultipleAudiences: boolean;
}

export function makeTokenVerifier(
  issuers: TrustedIssuer[],
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const { caPem, maxLifetimeSeconds = defaultMaxTokenLifetimeSeconds } = options;
  const jwksCache = new SimpleJwksCache({
    fetcher: new SimpleFetcher(caPem ? { defaultRequestOptions: { ca: caPem } } : undefined),
  });
  const byIssuer = new Map<string, IssuerVerifier>();
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
      for (const issuer of cognitoIssuers(trusted.userPoolId))
        byIssuer.set(issuer, { verify, allowMultipleAudiences: false });
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
      byIssuer.set(trusted.issuer, {
        verify: async (token) => ({ ...(await verifier.verify(token)) }),
        allowMultipleAudiences: trusted.allowMultipleAudiences ?? false,
      });
    }
  }

  return {
    async verify(token) {
      let issuer: unknown;
      try {
        const { header, payload } = decomposeUnverifiedJwt(token);
        issuer = payload.iss;
        refuseUnknownCriticalHeaders(header.crit);
        refuseUnrepresentableTimes(payload);
      } catch (error) {
        if (error instanceof TokenRejected) throw error;
        throw new TokenRejected(`malformed token: ${(error as Error).message}`);
      }
      const trusted = typeof issuer === 'string' ? byIssuer.get(issuer) : undefined;
      if (!trusted) {
        const names = [...byIssuer.keys()].join(', ');
        throw new TokenRejected(
          `issuer ${JSON.stringify(issuer ?? null)} is not trusted (trusted: ${names})`,
        );
      }
      let claims: Record<string, unknown>;
      try {
        claims = await trusted.verify(token);
      } catch (error) {
        throw new TokenRejected(refusalReason(error));
      }
      refuseUnboundedLifetime(claims.exp, maxLifetimeSeconds);
      if (!trusted.allowMultipleAudiences) refuseSeveralAudiences(claims.aud);
      return principalFromClaims(claims);
    },
  };
}

function refuseUnknownCriticalHeaders(crit: unknown): void {
  if (crit === undefined) return;
  // RFC 7515 §4.1.11: when present, crit is a non-empty array of names.
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== 'string')) {
    throw new TokenRejected('malformed token: header crit must be a non-empty list of names');
  }
  const unknown = crit.filter((name) => !understoodCriticalHeaders.has(name));
  if (unknown.length) {
    throw new TokenRejected(
      `header crit names ${listed(unknown)}, which this verifier does not understand; such a token cannot be accepted`,
    );
  }
}

/** The furthest a Date reaches (±8.64e15 ms), in seconds: a time claim beyond it names no instant. */
const maxTimeClaimSeconds = 8.64e12;

/** `exp: 1e308` or `nbf: -1e308` would make every message that dates them throw. */
function refuseUnrepresentableTimes(payload: Record<string, unknown>): void {
  for (const claim of ['exp', 'nbf', 'iat']) {
    const value = payload[claim];
    if (typeof value === 'number' && !(Math.abs(value) <= maxTimeClaimSeconds)) {
      throw new TokenRejected(
        `malformed token: ${claim} ${value} is no time (seconds since 1970, at most ${maxTimeClaimSeconds} either way)`,
      );
    }
  }
}

/**
 * A token without `exp`, or valid for longer than the limit, would stay usable
 * long after its client was revoked: a leaked one is a standing credential.
 */
function refuseUnboundedLifetime(exp: unknown, maxLifetimeSeconds: number): void {
  if (exp === undefined)
    throw new TokenRejected('token has no exp claim; only tokens that expire are accepted');
  const remaining = Number(exp) - Date.now() / 1000;
  if (remaining > maxLifetimeSeconds + graceSeconds) {
    throw new TokenRejected(
      `token is valid until ${new Date(Number(exp) * 1000).toISOString()}, further away than the ${maxLifetimeSeconds} s this API accepts; request a shorter-lived token`,
    );
  }
}

/** A token for several audiences could be replayed at each; only issuers configured so may mint them. */
function refuseSeveralAudiences(aud: unknown): void {
  if (Array.isArray(aud) && aud.length > 1) {
    throw new TokenRejected(
      `token lists ${aud.length} audiences (${listed(aud)}); this issuer's tokens must name exactly one`,
    );
  }
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

/**
 * The verifier a Lambda builds from `TRUSTED_ISSUERS`, `MAX_TOKEN_LIFETIME_SECONDS`
 * (optional) and, only in the local stack, `JWKS_CA_FILE`.
 */
export function tokenVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const raw = env.TRUSTED_ISSUERS;
  if (!raw) throw new Error('TRUSTED_ISSUERS is not set');
  const issuers = trustedIssuersSchema.parse(JSON.parse(raw));
  const options: TokenVerifierOptions = {};
  if (env.JWKS_CA_FILE) options.caPem = readFileSync(env.JWKS_CA_FILE, 'utf8');
  const lifetime = optionalWholeNumberFromEnv(env, 'MAX_TOKEN_LIFETIME_SECONDS', {
    min: 1,
    meaning: 'seconds',
  });
  if (lifetime !== undefined) options.maxLifetimeSeconds = lifetime;
  return makeTokenVerifier(issuers, options);
}
