/**
 * People sign in through the company's identity providers: what each
 * `identityProviders` entry synthesizes, the people app client, the
 * pre-token-generation trigger, and the context validation. Every synth runs
 * cdk-nag (a finding throws).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { logicalId, policyStatements, synthStack } from './synth.ts';

const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:portolan/entra-oidc-AbCdEf';
const samlOkta = {
  type: 'saml',
  name: 'okta',
  metadataUrl: 'https://acme.okta.com/app/exk1a2b3c4d5e6f7g8h9/sso/saml/metadata',
  attributes: { email: 'email', name: 'name', groups: 'groups' },
};
const oidcEntra = {
  type: 'oidc',
  name: 'entra',
  issuer: 'https://login.microsoftonline.com/0a1b2c3d-0000-4000-8000-00000000000a/v2.0',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientSecretArn: secretArn,
  scopes: ['openid', 'email', 'profile'],
  attributes: { email: 'email', name: 'name', groups: 'groups' },
};
const metadataDir = mkdtempSync(join(tmpdir(), 'portolan-saml-'));
after(() => rmSync(metadataDir, { recursive: true, force: true }));
const metadataFile = join(metadataDir, 'google.xml');
writeFileSync(
  metadataFile,
  '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://accounts.google.com/o/saml2?idpid=C0abc"/>',
);
const samlGoogle = {
  type: 'saml',
  name: 'google',
  metadataFile,
  attributes: { email: 'email', name: 'name', groups: 'groups' },
};

const none = synthStack().template;
const people = synthStack({
  identityProviders: JSON.stringify([samlOkta, oidcEntra, samlGoogle]),
  peopleCallbackUrls: '["https://backstage.acme.example/portolan/callback","http://127.0.0.1:8400/callback"]',
  peopleRefreshTokenDays: '7',
  adminGroups: '["okta:portolan-admins"]',
});
const { template } = people;

const resource = (t: Template, type: string, prefix: string) =>
  t.toJSON().Resources[logicalId(t, type, prefix)].Properties;
const envOf = (t: Template, prefix: string) =>
  resource(t, 'AWS::Lambda::Function', prefix).Environment.Variables;
const apiEnv = (t: Template) =>
  (
    Object.values(
      t.findResources('AWS::Lambda::Function', { Properties: { Description: 'Portolan catalog API' } }),
    )[0] as { Properties: { Environment: { Variables: Record<string, string> } } }
  ).Properties.Environment.Variables;
const providerNamed = (name: string) =>
  Object.values(template.findResources('AWS::Cognito::UserPoolIdentityProvider')).find(
    (r) => (r as { Properties: { ProviderName: string } }).Properties.ProviderName === name,
  ) as { Properties: Record<string, unknown> };

describe('no identity provider configured (the default)', () => {
  it('no federation, no people client, no trigger; the groups attribute is declared all the same', () => {
    none.resourceCountIs('AWS::Cognito::UserPoolIdentityProvider', 0);
    none.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    none.resourceCountIs('AWS::Cognito::ManagedLoginBranding', 0);
    const pool = resource(none, 'AWS::Cognito::UserPool', 'IdentityUserPool');
    assert.equal(pool.LambdaConfig, undefined);
    assert.deepEqual(pool.Schema, [
      {
        AttributeDataType: 'String',
        Mutable: true,
        Name: 'groups',
        StringAttributeConstraints: { MaxLength: '2048' },
      },
    ]);
    assert.equal(pool.UserPoolTier, 'ESSENTIALS');
    assert.ok(!Object.keys(none.toJSON().Outputs).includes('PeopleClientId'));
  });

  it('the authorizer trusts the CI client of the pool (not any client) and ADMIN_GROUPS is empty', () => {
    const trusted = JSON.stringify(envOf(none, 'CatalogApiAuthorizer').TRUSTED_ISSUERS);
    assert.match(trusted, /clientId\\":\[\\"/);
    assert.match(
      trusted,
      new RegExp(logicalId(none, 'AWS::Cognito::UserPoolClient', 'IdentityUserPoolCiClient')),
    );
    assert.equal(apiEnv(none).ADMIN_GROUPS, '[]');
    assert.equal(envOf(none, 'CatalogApiAuthorizer').ADMIN_GROUPS, '[]');
  });
});

describe('identity providers', () => {
  it('SAML by metadata URL: the provider, with email, name and groups → custom:groups', () => {
    assert.deepEqual(providerNamed('okta').Properties, {
      ProviderName: 'okta',
      ProviderType: 'SAML',
      UserPoolId: { Ref: logicalId(template, 'AWS::Cognito::UserPool', 'IdentityUserPool') },
      ProviderDetails: { MetadataURL: samlOkta.metadataUrl, IDPSignout: false },
      AttributeMapping: { email: 'email', name: 'name', 'custom:groups': 'groups' },
    });
  });

  it('SAML by metadata file: the file is read at synth and inlined', () => {
    const details = providerNamed('google').Properties.ProviderDetails as Record<string, string>;
    assert.match(details.MetadataFile ?? '', /entityID="https:\/\/accounts\.google\.com/);
  });

  it('OIDC: issuer, client id, scopes, mapping; the secret is a Secrets Manager dynamic reference, never in clear', () => {
    const { Properties } = providerNamed('entra');
    assert.equal(Properties.ProviderType, 'OIDC');
    assert.deepEqual(Properties.AttributeMapping, {
      email: 'email',
      name: 'name',
      'custom:groups': 'groups',
    });
    assert.deepEqual(Properties.ProviderDetails, {
      oidc_issuer: oidcEntra.issuer,
      client_id: oidcEntra.clientId,
      client_secret: `{{resolve:secretsmanager:${secretArn}:SecretString:::}}`,
      authorize_scopes: 'openid email profile',
      attributes_request_method: 'GET',
    });
  });
});

describe('the people app client', () => {
  const client = () =>
    Object.values(template.findResources('AWS::Cognito::UserPoolClient')).find(
      (c) =>
        (c as { Properties: { AllowedOAuthFlows: string[] } }).Properties.AllowedOAuthFlows[0] === 'code',
    ) as { Properties: Record<string, unknown> };

  it('authorization code (PKCE), no secret, the configured callbacks, 1 h tokens, configured refresh, revocation', () => {
    const p = client().Properties;
    assert.deepEqual(p.AllowedOAuthFlows, ['code']);
    assert.equal(p.GenerateSecret, false);
    assert.deepEqual(p.CallbackURLs, [
      'https://backstage.acme.example/portolan/callback',
      'http://127.0.0.1:8400/callback',
    ]);
    assert.deepEqual(p.LogoutURLs, p.CallbackURLs);
    assert.deepEqual([p.AccessTokenValidity, p.IdTokenValidity], [60, 60]);
    assert.deepEqual(p.TokenValidityUnits, {
      AccessToken: 'minutes',
      IdToken: 'minutes',
      RefreshToken: 'minutes',
    });
    assert.equal(p.RefreshTokenValidity, 7 * 24 * 60);
    assert.equal(p.EnableTokenRevocation, true);
    assert.equal(p.PreventUserExistenceErrors, 'ENABLED');
  });

  it('signs in only through the configured IdPs, and reads the catalog by scope; writes come from policies', () => {
    const p = client().Properties;
    const refs = ['okta', 'entra', 'google'].map((name) => ({
      Ref: logicalId(template, 'AWS::Cognito::UserPoolIdentityProvider', `IdentityIdp${name}`),
    }));
    assert.deepEqual(p.SupportedIdentityProviders, refs);
    const scopes = JSON.stringify(p.AllowedOAuthScopes);
    assert.match(scopes, /"openid","email","profile".*catalog\.read/);
    assert.doesNotMatch(scopes, /catalog\.write|admin|audit/);
  });

  it('the pool’s own users only when asked for (COGNITO), cdk-nag clean too', () => {
    const withUsers = synthStack({ peopleCognitoUsers: 'true' }).template;
    withUsers.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  it('default callbacks are the CLI loopback', () => {
    const defaults = synthStack({ identityProviders: JSON.stringify([samlOkta]) }).template;
    defaults.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      CallbackURLs: ['http://localhost:8400/callback'],
      RefreshTokenValidity: 30 * 24 * 60,
    });
  });

  it('managed login (version 2) on the stack’s domain, with Cognito’s style for the client', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 2 });
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
      ClientId: { Ref: logicalId(template, 'AWS::Cognito::UserPoolClient', 'IdentityUserPoolPeopleClient') },
      UseCognitoProvidedValues: true,
    });
  });

  it('the authorizer accepts the people client beside the CI client; outputs name it and the sign-in URL', () => {
    const trusted = JSON.stringify(envOf(template, 'CatalogApiAuthorizer').TRUSTED_ISSUERS);
    for (const prefix of ['IdentityUserPoolCiClient', 'IdentityUserPoolPeopleClient'])
      assert.match(trusted, new RegExp(logicalId(template, 'AWS::Cognito::UserPoolClient', prefix)));
    const outputs = Object.keys(template.toJSON().Outputs);
    assert.ok(outputs.includes('PeopleClientId') && outputs.includes('SignInUrl'));
  });

  it('adminGroups reaches the API and the authorizer as ADMIN_GROUPS', () => {
    for (const env of [apiEnv(template), envOf(template, 'CatalogApiAuthorizer')])
      assert.equal(env.ADMIN_GROUPS, '["okta:portolan-admins"]');
  });
});

describe('the pre-token-generation trigger', () => {
  it('is the pool’s V2_0 pre-token trigger on the Essentials plan, invocable by this pool only', () => {
    const fn = logicalId(template, 'AWS::Lambda::Function', 'IdentityPreToken');
    const pool = resource(template, 'AWS::Cognito::UserPool', 'IdentityUserPool');
    assert.deepEqual(pool.LambdaConfig, {
      PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [fn, 'Arn'] }, LambdaVersion: 'V2_0' },
    });
    assert.equal(pool.UserPoolTier, 'ESSENTIALS');
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      Principal: 'cognito-idp.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Cognito::UserPool', 'IdentityUserPool'), 'Arn'] },
    });
    assert.equal(envOf(template, 'IdentityPreToken').IDENTITY_PROVIDERS, '["okta","entra","google"]');
  });

  it('built like the others (Node.js 24, arm64, untraced) and allowed nothing but its logs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('pre-token'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: Match.absent(),
    });
    const role = logicalId(template, 'AWS::IAM::Role', 'IdentityPreTokenRole');
    const actions = policyStatements(template)
      .filter((s) => s.roles.includes(role))
      .flatMap((s) => s.actions)
      .sort();
    assert.deepEqual(actions, ['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});

describe('context validation names the setting', () => {
  const refused = (context: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => synthStack(context), message);

  it('identityProviders', () => {
    const idps = (...entries: unknown[]) => ({ identityProviders: JSON.stringify(entries) });
    refused(
      idps({ ...samlOkta, metadataUrl: 'http://acme.okta.com/m' }),
      /identityProviders\[0\]\.metadataUrl: must be an https URL/,
    );
    refused(
      idps({ ...samlOkta, metadataFile: 'x.xml' }),
      /identityProviders\[0\]: set exactly one of metadataUrl and metadataFile/,
    );
    refused(
      idps({ ...oidcEntra, clientSecret: 'hunter2' }),
      /identityProviders\[0\]\.clientSecret: must not be in context: store it in Secrets Manager/,
    );
    refused(
      idps({ ...oidcEntra, clientSecretArn: 'hunter2' }),
      /identityProviders\[0\]\.clientSecretArn: must be the ARN of a Secrets Manager secret/,
    );
    refused(idps({ ...oidcEntra, scopes: ['email'] }), /identityProviders\[0\]\.scopes: must include openid/);
    refused(
      idps(samlOkta, { ...oidcEntra, name: 'okta' }),
      /identityProviders\[1\]\.name: is used by another provider/,
    );
    refused(idps({ ...samlOkta, name: 'cognito' }), /identityProviders\[0\]\.name: is reserved/);
    refused(idps({ ...samlOkta, name: 'Okta_1' }), /identityProviders\[0\]\.name: must be 3-32 lowercase/);
    refused(idps({ ...samlOkta, type: 'ldap' }), /identityProviders\[0\]/);
    refused(idps({ ...samlOkta, attributes: { name: 'n' } }), /identityProviders\[0\]\.attributes\.email/);
    refused(
      idps({ ...samlOkta, metadataUrl: undefined, metadataFile: join(metadataDir, 'missing.xml') }),
      /metadataFile: cannot read/,
    );
    refused({ identityProviders: '[{' }, /identityProviders: not JSON/);
  });

  it('people settings and adminGroups', () => {
    refused(
      { peopleCallbackUrls: '["http://app.acme.example/cb"]' },
      /peopleCallbackUrls\[0\]: must be https, or http on 127\.0\.0\.1 or localhost/,
    );
    refused(
      { peopleLogoutUrls: '["https://a.example/#x"]' },
      /peopleLogoutUrls\[0\]: must not have a fragment/,
    );
    refused({ peopleRefreshTokenDays: '0' }, /peopleRefreshTokenDays: must be at least 1 day/);
    refused({ peopleRefreshTokenDays: '5000' }, /peopleRefreshTokenDays: must be at most 3650 days/);
    refused({ adminGroups: '["portolan-admins"]' }, /adminGroups\[0\]: must be <idp-name>:<group>/);
  });
});
