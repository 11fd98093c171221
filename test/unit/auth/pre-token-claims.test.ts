/**
 * The pre-token-generation trigger on Cognito V2 events shaped like recorded ones
 * (test/fixtures/cognito): a SAML (Okta) and an OIDC (Entra ID) federated user,
 * the group attribute formats IdPs send, and hostile attribute values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { makePreTokenHandler } from '#functions/pre-token/handler';
import {
  claimsOverride,
  maxGroupLength,
  maxGroups,
  type PreTokenEventV2,
  parseGroupAttribute,
  personClaims,
  providerNamesFromEnv,
} from '#shared/auth/pre-token-claims';

type Event = PreTokenEventV2 & { response: { claimsAndScopeOverrideDetails: unknown } };
const fixture = (name: string): Event =>
  JSON.parse(readFileSync(new URL(`../../fixtures/cognito/${name}.json`, import.meta.url), 'utf8'));
const providers = ['okta', 'entra', 'google'];
const withAttributes = (base: Event, attributes: Record<string, string | undefined>): Event => ({
  ...base,
  request: { ...base.request, userAttributes: { ...base.request.userAttributes, ...attributes } },
});

describe('pre-token trigger on recorded-shaped Cognito V2 events', () => {
  it('SAML (Okta): the bracketed multi-valued attribute becomes okta:<group>, with email and name in the access token', async () => {
    const handler = makePreTokenHandler(providers, new Logger({ logLevel: 'SILENT' }));
    const event = await handler(fixture('pre-token-v2-saml-okta'));
    assert.deepEqual(event.response.claimsAndScopeOverrideDetails, {
      accessTokenGeneration: {
        claimsToAddOrOverride: {
          groups: ['okta:payments-eng', 'okta:Everyone', 'okta:on-call'],
          email: 'alice@acme.example',
          name: 'Alice Martin',
        },
      },
      idTokenGeneration: {
        claimsToAddOrOverride: { groups: ['okta:payments-eng', 'okta:Everyone', 'okta:on-call'] },
      },
    });
  });

  it('OIDC (Entra ID): a JSON array claim, object ids kept as sent', () => {
    const claims = personClaims(fixture('pre-token-v2-oidc-entra'), providers);
    assert.deepEqual(claims, {
      groups: ['entra:5e1c0a2b-8f3d-4c6e-9a7b-1d2e3f4a5b6c', 'entra:search-eng'],
      email: 'bob@acme.example',
      name: 'Bob Okafor',
    });
  });

  it('names the provider as configured, from identities or else the user name prefix (any case)', () => {
    const okta = fixture('pre-token-v2-saml-okta');
    const noIdentities = withAttributes(
      { ...okta, userName: 'OKTA_alice@acme.example' },
      { identities: undefined },
    );
    assert.deepEqual(personClaims(noIdentities, providers).groups.slice(0, 1), ['okta:payments-eng']);
  });

  it('a provider that is not configured yields no groups (fail closed)', () => {
    const okta = fixture('pre-token-v2-saml-okta');
    assert.deepEqual(personClaims(okta, ['entra']).groups, []);
    const forged = withAttributes(okta, { identities: '[{"providerName":"evil","primary":"true"}]' });
    assert.deepEqual(personClaims({ ...forged, userName: 'evil_x' }, providers).groups, []);
  });

  it('a native pool user gets their Cognito groups as cognito:<group>, without the automatic per-IdP groups', () => {
    const native: Event = {
      ...fixture('pre-token-v2-saml-okta'),
      userName: '8a6b3c2d-0000-4000-8000-000000000001',
      request: {
        userAttributes: { sub: '8a6b', 'cognito:user_status': 'CONFIRMED', email: 'ops@acme.example' },
        groupConfiguration: { groupsToOverride: ['portolan-admins', 'eu-west-1_Xq7pT2bLm_okta'] },
      },
    };
    assert.deepEqual(personClaims(native, providers).groups, ['cognito:portolan-admins']);
  });
});

describe('the group attribute, as IdPs send it', () => {
  for (const [value, expected] of [
    ['[payments-eng, everyone]', ['payments-eng', 'everyone']],
    ['["payments-eng","everyone"]', ['payments-eng', 'everyone']],
    ['payments-eng,everyone', ['payments-eng', 'everyone']],
    [' payments-eng , , everyone,payments-eng ', ['payments-eng', 'everyone']],
    ['payments-eng', ['payments-eng']],
    ['["a, b"]', ['a, b']],
    ['[]', []],
    ['', []],
    ['[1, {"x":2}, "ok"]', ['ok']],
    ['[unterminated, "quote]', ['unterminated', '"quote']],
    ['evil\u0000group,fine', ['fine']],
  ] as const)
    it(`${JSON.stringify(value)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseGroupAttribute(value), expected);
    });

  it('a value longer than Cognito stores (2048) is not read at all', () => {
    assert.deepEqual(parseGroupAttribute(`a,${'b'.repeat(2048)}`), []);
  });
});

describe('hostile attribute values', () => {
  const okta = fixture('pre-token-v2-saml-okta');

  it('no attribute can add a claim: a JSON object or claim-looking text stays a group name', () => {
    const hostile = withAttributes(okta, {
      'custom:groups': '{"scope":"portolan/admin"}, "cognito:groups":["admins"]',
      name: '","scope":"portolan/admin',
    });
    const access = claimsOverride(personClaims(hostile, providers)).accessTokenGeneration
      .claimsToAddOrOverride;
    assert.deepEqual(Object.keys(access).sort(), ['email', 'groups', 'name']);
    assert.equal(access.name, '","scope":"portolan/admin');
    for (const group of access.groups as string[]) assert.ok(group.startsWith('okta:'), group);
  });

  it('groups longer than a team may list are dropped; at most 100 reach the token', () => {
    const long = `${'x'.repeat(maxGroupLength - 'okta:'.length)}`;
    const tooLong = `${long}y`;
    const many = Array.from({ length: 150 }, (_, i) => `g${i}`);
    assert.deepEqual(
      personClaims(withAttributes(okta, { 'custom:groups': `${long},${tooLong}` }), providers).groups,
      [`okta:${long}`],
    );
    const capped = personClaims(withAttributes(okta, { 'custom:groups': many.join(',') }), providers).groups;
    assert.equal(capped.length, maxGroups);
  });

  it('fast-check: never throws; only groups, email and name; every group prefixed, bounded, unique, printable', () => {
    const attribute = fc.oneof(
      fc.string({ maxLength: 3000 }),
      fc.array(fc.string(), { maxLength: 200 }).map((a) => JSON.stringify(a)),
      fc.array(fc.string(), { maxLength: 200 }).map((a) => `[${a.join(', ')}]`),
      fc.array(fc.string({ unit: 'binary' }), { maxLength: 50 }).map((a) => a.join(',')),
    );
    fc.assert(
      fc.property(
        fc.record({
          userName: fc.oneof(fc.string(), fc.constantFrom('okta_x', 'Entra_y', 'evil_z', 'google')),
          groups: fc.option(attribute, { nil: undefined }),
          identities: fc.option(
            fc.oneof(
              fc.string(),
              fc
                .constantFrom('okta', 'OKTA', 'evil', 'cognito')
                .map((p) => JSON.stringify([{ providerName: p, primary: 'true' }])),
            ),
            { nil: undefined },
          ),
          email: fc.option(fc.string({ maxLength: 3000 }), { nil: undefined }),
          name: fc.option(fc.string(), { nil: undefined }),
          cognitoGroups: fc.array(fc.string(), { maxLength: 5 }),
        }),
        (input) => {
          const event: PreTokenEventV2 = {
            version: '2',
            userName: input.userName,
            userPoolId: 'eu-west-1_Xq7pT2bLm',
            request: {
              userAttributes: {
                'custom:groups': input.groups,
                identities: input.identities,
                email: input.email,
                name: input.name,
              },
              groupConfiguration: { groupsToOverride: input.cognitoGroups },
            },
          };
          const access = claimsOverride(personClaims(event, providers)).accessTokenGeneration
            .claimsToAddOrOverride;
          for (const key of Object.keys(access)) assert.ok(['groups', 'email', 'name'].includes(key), key);
          const groups = access.groups as string[];
          assert.ok(groups.length <= maxGroups);
          assert.equal(new Set(groups).size, groups.length);
          for (const group of groups) {
            assert.match(group, /^(okta|entra|google|cognito):./s);
            assert.ok(group.length <= maxGroupLength);
            // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
            assert.doesNotMatch(group, /[\u0000-\u001f\u007f]/);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('IDENTITY_PROVIDERS', () => {
  it('reads the configured names and refuses anything but a list of names', () => {
    assert.deepEqual(providerNamesFromEnv({ IDENTITY_PROVIDERS: '["okta"]' }), ['okta']);
    assert.deepEqual(providerNamesFromEnv({}), []);
    assert.throws(
      () => providerNamesFromEnv({ IDENTITY_PROVIDERS: '{"okta":1}' }),
      /not a JSON list of names/,
    );
  });
});
