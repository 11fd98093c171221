/** Each construct stands on its own: in a bare stack, with only what it needs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { DataTables } from '#infra/constructs/data-tables';
import { Identity } from '#infra/constructs/identity';
import { IngestPipeline } from '#infra/constructs/ingest-pipeline';
import { policyStatements } from './synth.ts';

const bareStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');

describe('constructs on their own', () => {
  it('DataTables: two tables; grantAppend gives put and reads on the audit table and denies the rest', () => {
    const stack = bareStack();
    const tables = new DataTables(stack, 'Data');
    tables.grantAppend(
      new Role(stack, 'Writer', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
    );
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    const statements = policyStatements(template);
    assert.deepEqual(
      statements.map((s) => [s.Effect, s.actions.length]),
      [
        ['Allow', 3],
        ['Deny', 10],
      ],
    );
  });

  it('Identity: a user pool, its domain and client, and the trusted issuers list', () => {
    const stack = bareStack();
    const identity = new Identity(stack, 'Identity', {
      domainPrefix: 'acme-portolan',
      externalIssuers: [{ issuer: 'https://token.actions.githubusercontent.com', audience: ['x'] }],
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    assert.deepEqual(
      identity.trustedIssuers.map((i) => i.type),
      ['cognito', 'oidc'],
    );
  });

  it('Identity with an identity provider: federation, the people client and the trigger come with it', () => {
    const stack = bareStack();
    const identity = new Identity(stack, 'Identity', {
      domainPrefix: 'acme-portolan',
      identityProviders: [
        {
          type: 'saml',
          name: 'okta',
          metadataUrl: 'https://acme.okta.com/app/x/sso/saml/metadata',
          attributes: { email: 'email', groups: 'groups' },
        },
      ],
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Cognito::UserPoolIdentityProvider', 1);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 2);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    assert.ok(identity.peopleClient && identity.preTokenFunction);
    const [cognito] = identity.trustedIssuers;
    assert.equal(cognito?.type === 'cognito' && cognito.clientId?.length, 2);
  });

  it('IngestPipeline: streams, the enrich function and its mapping, given only the tables', () => {
    const stack = bareStack();
    new IngestPipeline(stack, 'Ingest', { tables: new DataTables(stack, 'Data') });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
  });
});
