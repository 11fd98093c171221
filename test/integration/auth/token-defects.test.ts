/**
 * Every JWT defect, against the real local issuer's JWKS over HTTPS and through
 * the real gateway, authorizer and API: each is a 401 problem whose detail says
 * what is wrong; a good token passes.
 */
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { makeTokenVerifier, TokenRejected } from '#shared/auth/token-verifier';
import { issuerSigningKey, mintToken } from '../../support/local-stack.ts';
import { call, state } from '../api/api-client.ts';

const now = Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const reader = { sub: 'portolan-reader', client_id: 'portolan-reader', scope: 'portolan/catalog.read' };

function hs256WithPublicKey(): string {
  // The classic key-confusion attack: HMAC keyed with the issuer's public key.
  const { n, e, kid } = issuerSigningKey(state);
  const header = b64url({ alg: 'HS256', typ: 'JWT', kid });
  const payload = b64url({ ...reader, iss: state.issuer, aud: state.audience, iat: now, exp: now + 600 });
  const signature = createHmac('sha256', JSON.stringify({ kty: 'RSA', n, e }))
    .update(`${header}.${payload}`)
    .digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function tampered(): string {
  const [header, , signature] = mintToken(state, reader).split('.');
  const payload = b64url({
    ...reader,
    scope: 'portolan/admin',
    iss: state.issuer,
    aud: state.audience,
    exp: now + 600,
  });
  return `${header}.${payload}.${signature}`;
}

const defects: [string, () => string | null, RegExp][] = [
  ['missing token', () => null, /missing bearer token/],
  ['not a JWT', () => 'not-a-jwt', /malformed token/],
  ['expired', () => mintToken(state, { ...reader, iat: now - 3600, exp: now - 60 }), /expired at/],
  ['not yet valid', () => mintToken(state, { ...reader, nbf: now + 600 }), /token not valid before \d{4}-/],
  [
    'wrong issuer',
    () => mintToken(state, { ...reader, iss: 'https://evil.example' }),
    /issuer "https:\/\/evil\.example" is not trusted/,
  ],
  [
    'wrong audience',
    () => mintToken(state, { ...reader, aud: 'someone-else' }),
    /audience "someone-else" is not accepted/,
  ],
  [
    'alg none',
    () =>
      `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...reader, iss: state.issuer, aud: state.audience, exp: now + 600 })}.`,
    /malformed token|algorithm|kid/i,
  ],
  ['HS256 signed with the public key', hs256WithPublicKey, /algorithm|signature/i],
  [
    'unknown kid',
    () => mintToken(state, reader, { header: { kid: 'no-such-key' } }),
    /no-such-key.*not found/,
  ],
  ['tampered payload', tampered, /signature verification failed/],
  ['without exp', () => mintToken(state, { ...reader, exp: undefined }), /no exp claim/],
  [
    'valid for longer than 24 hours',
    () => mintToken(state, { ...reader, exp: now + 24 * 3600 + 120 }),
    /further away than the 86400 s this API accepts/,
  ],
  [
    'valid for years',
    () => mintToken(state, { ...reader, exp: now + 10 * 365 * 24 * 3600 }),
    /further away than/,
  ],
  [
    'marked crit with an extension the verifier does not know',
    () => mintToken(state, reader, { header: { crit: ['http://example.com/must-check'] } }),
    /crit names "http:\/\/example\.com\/must-check", which this verifier does not understand/,
  ],
  [
    'marked crit with b64 (RFC 7797 unencoded payload)',
    () => mintToken(state, reader, { header: { crit: ['b64'], b64: false } }),
    /crit names "b64"/,
  ],
  [
    'valid until exp 1e308, past any date',
    () => mintToken(state, { ...reader, exp: 1e308 }),
    /exp 1e\+308 is no time/,
  ],
  ['not valid before nbf 1e308', () => mintToken(state, { ...reader, nbf: 1e308 }), /nbf 1e\+308 is no time/],
  ['expired at exp -1e308', () => mintToken(state, { ...reader, exp: -1e308 }), /exp -1e\+308 is no time/],
  ['carrying a malformed crit', () => mintToken(state, reader, { header: { crit: [] } }), /crit must be/],
  [
    'for several audiences',
    () => mintToken(state, { ...reader, aud: [state.audience, 'another-api'] }),
    /token lists 2 audiences .*must name exactly one/,
  ],
  [
    'signed by another key',
    () =>
      mintToken(state, reader, {
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      }),
    /signature verification failed/,
  ],
];

describe('token defects', () => {
  for (const [defect, token, detail] of defects) {
    it(`refuses a token that is ${defect} with a 401 saying so`, async () => {
      const r = await call('GET', '/v1/whoami', { bearer: token() });
      assert.equal(r.status, 401, JSON.stringify(r.body));
      if (defect !== 'missing token') {
        assert.equal(r.headers.get('content-type'), 'application/problem+json');
        assert.match(String(r.body.detail), detail);
      }
    });
  }

  it('accepts a well-formed token signed by the issuer', async () => {
    const r = await call('GET', '/v1/whoami', { bearer: mintToken(state, reader) });
    assert.equal(r.status, 200);
    assert.deepEqual((r.body.principal as { scopes: string[] }).scopes, ['portolan/catalog.read']);
  });

  it('refuses a scope the token lacks with 403, not 401', async () => {
    const r = await call('PUT', '/v1/teams/no-write', {
      bearer: mintToken(state, reader),
      body: { name: 'x' },
    });
    assert.equal(r.status, 403);
    assert.equal(r.body.decidedBy, 'default-deny');
  });
});

describe('per-deployment token limits', () => {
  const trusted = (extra: Record<string, unknown> = {}) =>
    [
      {
        type: 'oidc',
        issuer: state.issuer,
        audience: [state.audience],
        jwksUri: `${state.issuer}/jwks`,
        ...extra,
      },
    ] as const;
  const caPem = readFileSync(state.caFile, 'utf8');

  it('accepts several audiences only from an issuer configured to allow them', async () => {
    const token = mintToken(state, { ...reader, aud: [state.audience, 'another-api'] });
    const strict = makeTokenVerifier([...trusted()] as never, { caPem });
    await assert.rejects(
      strict.verify(token),
      (e: Error) => e instanceof TokenRejected && /2 audiences/.test(e.message),
    );
    const lenient = makeTokenVerifier([...trusted({ allowMultipleAudiences: true })] as never, { caPem });
    assert.equal((await lenient.verify(token)).subject, 'portolan-reader');
  });

  it('applies a configured maximum lifetime', async () => {
    const verifier = makeTokenVerifier([...trusted()] as never, { caPem, maxLifetimeSeconds: 900 });
    assert.equal(
      (await verifier.verify(mintToken(state, { ...reader, exp: now + 600 }))).subject,
      'portolan-reader',
    );
    await assert.rejects(
      verifier.verify(mintToken(state, { ...reader, exp: now + 3600 })),
      /further away than the 900 s this API accepts/,
    );
  });
});
