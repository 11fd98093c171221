/**
 * `npx cdk synth` exactly as a platform engineer runs it: offline, with no AWS
 * credentials, bundling with the project's esbuild (Docker made unusable to
 * prove it is never needed), cdk-nag applied by the app itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { synthStack } from './synth.ts';

const out = mkdtempSync(join(tmpdir(), 'portolan-cdk-out-'));
after(() => rmSync(out, { recursive: true, force: true }));

describe('cdk synth', () => {
  it('synthesizes offline with no credentials and bundles every function without Docker', () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out], {
      env: {
        ...env,
        AWS_EC2_METADATA_DISABLED: 'true',
        CDK_DOCKER: '/bin/false',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const template = JSON.parse(readFileSync(join(out, 'Portolan.template.json'), 'utf8'));
    const functions = Object.values(template.Resources).filter(
      (r) => (r as { Type: string }).Type === 'AWS::Lambda::Function',
    );
    assert.equal(functions.length, 4);
    const bundles = readdirSync(out)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => join(out, name, 'index.mjs'))
      .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile());
    assert.equal(bundles.length, 4, 'one ESM bundle per function');
    for (const bundle of bundles) {
      assert.ok(statSync(`${bundle}.map`).isFile(), 'with a source map');
      const code = readFileSync(bundle, 'utf8');
      // Minified: a few long lines (template literals keep some newlines), not one statement per line.
      assert.ok(code.split('\n').length < code.length / 2_000, 'minified');
    }
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('passes with every option set', () => {
    assert.doesNotThrow(() =>
      synthStack({
        oidcIssuers: JSON.stringify([
          { issuer: 'https://token.actions.githubusercontent.com', audience: ['portolan'] },
        ]),
        otlpEndpoint: 'https://ingest.lightstep.com/traces/otlp/v0.9',
        inputStreamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/otel',
        inputStreamKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        corsOrigins: '["https://backstage.acme.example"]',
        alarmEmail: 'oncall@acme.example',
        identityProviders: JSON.stringify([
          {
            type: 'oidc',
            name: 'okta',
            issuer: 'https://acme.okta.com',
            clientId: '0oa1b2c3d4e5f6g7h8i9',
            clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:portolan/okta-AbCdEf',
            attributes: { email: 'email', name: 'name', groups: 'groups' },
          },
        ]),
        peopleCognitoUsers: 'true',
        adminGroups: '["okta:portolan-admins"]',
      }),
    );
  });

  it('is really applied: a queue without encryption or DLQ fails synthesis', () => {
    assert.throws(
      () => synthStack({}, (stack) => new Queue(stack, 'Careless', { enforceSSL: false })),
      /Validation failed/,
    );
  });
});
