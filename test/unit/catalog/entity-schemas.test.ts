import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referencesOf } from '#shared/catalog/entity-kinds';
import { environment, repository, service, team } from '#shared/catalog/entity-schemas';

describe('catalog schemas', () => {
  it('accept the documented wire shape of each kind', () => {
    assert.ok(
      team.safeParse({
        id: 'payments',
        name: 'Payments',
        contacts: { slack: '#payments', email: 'payments@acme.example', oncall: 'payments-primary' },
      }).success,
    );
    assert.ok(
      service.safeParse({
        id: 'checkout',
        team: 'payments',
        repository: 'github.com/acme/checkout',
        tier: 'tier-1',
        lifecycle: 'production',
        runbook: 'https://runbooks.acme.example/checkout',
        dataClassification: 'confidential',
        environments: ['prod'],
        selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: '/aws/lambda/checkout-' }],
      }).success,
    );
    assert.ok(
      repository.safeParse({
        id: 'github.com/acme/checkout',
        team: 'payments',
        url: 'https://github.com/acme/checkout',
      }).success,
    );
    assert.ok(
      environment.safeParse({
        id: 'prod',
        cloud: { provider: 'aws', accountId: '123456789012', region: 'us-east-1' },
      }).success,
    );
  });

  it('refuse unknown fields, naming them', () => {
    const result = team.safeParse({ id: 'payments', name: 'Payments', owner: 'x' });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error?.issues), /owner/);
  });

  it('refuse malformed ids, links and enums with a message per field', () => {
    const result = service.safeParse({
      id: 'Check Out',
      team: 'payments',
      runbook: 'ftp://x',
      lifecycle: 'live',
    });
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['id', 'lifecycle', 'runbook']);
  });

  it('require repository ids without a scheme', () => {
    assert.equal(repository.safeParse({ id: 'https://github.com/acme/x', team: 'a' }).success, false);
    assert.equal(repository.safeParse({ id: 'github.com/acme/x', team: 'a' }).success, true);
  });

  it('list the references a document makes, once each', () => {
    assert.deepEqual(
      referencesOf('service', {
        team: 'payments',
        repository: 'github.com/acme/checkout',
        environments: ['prod', 'prod', 'staging'],
      }),
      ['team/payments', 'repository/github.com/acme/checkout', 'environment/prod', 'environment/staging'],
    );
    assert.deepEqual(referencesOf('team', { parent: 'platform' }), ['team/platform']);
    assert.deepEqual(referencesOf('environment', {}), []);
  });
});
