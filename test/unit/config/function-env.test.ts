/**
 * Each function reads its numbers strictly at init: a malformed value fails the
 * cold start with the variable's name instead of becoming NaN, 0 or a default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenVerifierFromEnv } from '#shared/auth/token-verifier';

process.env.AWS_REGION ??= 'us-east-1';
// The handler modules build their Lambda exports from the environment on import.
process.env.CATALOG_TABLE ??= 'catalog';
process.env.AUDIT_TABLE ??= 'audit';
process.env.OUTPUT_STREAM ??= 'out';
const { enrichDepsFromEnv } = await import('#functions/enrich/handler');
const { apiDepsFromEnv } = await import('#functions/api/handler');

const enrichEnv = { CATALOG_TABLE: 'catalog', OUTPUT_STREAM: 'out', AWS_REGION: 'us-east-1' };
const apiEnv = { CATALOG_TABLE: 'catalog', AUDIT_TABLE: 'audit', AWS_REGION: 'us-east-1' };
const trustedIssuers = JSON.stringify([
  { type: 'oidc', issuer: 'https://issuer.example', audience: ['portolan'] },
]);

const namesIt = (name: string, raw: string) => (error: Error) =>
  error.message.includes(`${name}=${JSON.stringify(raw)} must be a whole number`);

describe('function configuration numbers', () => {
  for (const raw of ['60s', '', '1e3', '-5', '0x3c']) {
    it(`enrich: CACHE_TTL_SECONDS=${JSON.stringify(raw)} fails init`, () => {
      assert.throws(
        () => enrichDepsFromEnv({ ...enrichEnv, CACHE_TTL_SECONDS: raw }),
        namesIt('CACHE_TTL_SECONDS', raw),
      );
    });
  }

  it('enrich: the record size and the memory size are read strictly too', () => {
    assert.throws(
      () => enrichDepsFromEnv({ ...enrichEnv, MAX_RECORD_BYTES: '1MiB' }),
      namesIt('MAX_RECORD_BYTES', '1MiB'),
    );
    assert.throws(
      () => enrichDepsFromEnv({ ...enrichEnv, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024MB' }),
      namesIt('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '1024MB'),
    );
  });

  it('enrich: a well-formed TTL is taken', () => {
    assert.doesNotThrow(() => enrichDepsFromEnv({ ...enrichEnv, CACHE_TTL_SECONDS: '2' }));
  });

  it('api: AUDIT_VERIFY_DIGESTS=48x fails init; 48 is the window', () => {
    assert.throws(
      () => apiDepsFromEnv({ ...apiEnv, AUDIT_VERIFY_DIGESTS: '48x' }),
      namesIt('AUDIT_VERIFY_DIGESTS', '48x'),
    );
    assert.equal(apiDepsFromEnv({ ...apiEnv, AUDIT_VERIFY_DIGESTS: '48' }).digestWindow, 48);
    assert.equal(apiDepsFromEnv(apiEnv).digestWindow, undefined);
  });

  it('authorizer: MAX_TOKEN_LIFETIME_SECONDS=24h fails init', () => {
    assert.throws(
      () => tokenVerifierFromEnv({ TRUSTED_ISSUERS: trustedIssuers, MAX_TOKEN_LIFETIME_SECONDS: '24h' }),
      namesIt('MAX_TOKEN_LIFETIME_SECONDS', '24h'),
    );
    assert.throws(
      () => tokenVerifierFromEnv({ TRUSTED_ISSUERS: trustedIssuers, MAX_TOKEN_LIFETIME_SECONDS: '8.64e4' }),
      namesIt('MAX_TOKEN_LIFETIME_SECONDS', '8.64e4'),
    );
    assert.doesNotThrow(() =>
      tokenVerifierFromEnv({ TRUSTED_ISSUERS: trustedIssuers, MAX_TOKEN_LIFETIME_SECONDS: '86400' }),
    );
  });
});
