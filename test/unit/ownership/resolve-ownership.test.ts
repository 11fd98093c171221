import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment, Repository, Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import { type CatalogSnapshot, resolveOwnership } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';

const teams: Record<string, Team> = {
  payments: {
    id: 'payments',
    name: 'Payments',
    contacts: { slack: '#payments', email: 'payments@acme.example', oncall: 'payments-primary' },
  },
  search: { id: 'search', name: 'Search', contacts: {} },
};
const services: Record<string, Service> = {
  checkout: {
    id: 'checkout',
    team: 'payments',
    repository: 'github.com/acme/checkout',
    tier: 'tier-1',
    lifecycle: 'production',
    runbook: 'https://runbooks.acme.example/checkout',
    dataClassification: 'confidential',
    environments: ['prod', 'staging'],
    selectors: [
      { attribute: 'aws.log.group.names', match: 'prefix', value: '/aws/lambda/checkout-' },
      { attribute: 'k8s.namespace.name', match: 'glob', value: 'pay*' },
    ],
  },
  'checkout-api': {
    id: 'checkout-api',
    team: 'payments',
    selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: '/aws/lambda/checkout-api-' }],
  },
  ledger: {
    id: 'ledger',
    team: 'payments',
    environments: ['prod'],
    selectors: [{ attribute: 'k8s.namespace.name', match: 'exact', value: 'payments' }],
  },
  'search-a': {
    id: 'search-a',
    team: 'search',
    selectors: [{ attribute: 'faas.name', match: 'glob', value: 'search-*' }],
  },
  'search-b': {
    id: 'search-b',
    team: 'search',
    selectors: [{ attribute: 'faas.name', match: 'glob', value: 'search-*-fn' }],
  },
} as Record<string, Service>;
const repositories: Record<string, Repository> = {
  'github.com/acme/checkout': {
    id: 'github.com/acme/checkout',
    team: 'payments',
    url: 'https://github.com/acme/checkout',
  },
};
const environments: Record<string, Environment> = {
  prod: { id: 'prod', cloud: { provider: 'aws', accountId: '123456789012', region: 'us-east-1' } },
  staging: { id: 'staging', cloud: { provider: 'aws' } },
};

const catalog = (overrides: Partial<CatalogSnapshot> = {}): CatalogSnapshot => ({
  service: (id) => services[id],
  team: (id) => teams[id],
  repository: (id) => repositories[id],
  environment: (id) => environments[id],
  selectors: () =>
    compileSelectors(Object.values(services).map((s) => ({ id: s.id, selectors: s.selectors ?? [] }))),
  ...overrides,
});

const cases: {
  name: string;
  attributes: SourceAttributes;
  status: string;
  match: string;
  service?: string;
  environment?: string;
}[] = [
  {
    name: 'service.name names a catalog service',
    attributes: { 'service.name': 'checkout' },
    status: 'owned',
    match: 'service.name',
    service: 'checkout',
  },
  {
    name: 'service.name wins over a selector that also matches',
    attributes: { 'service.name': 'checkout', 'k8s.namespace.name': 'payments' },
    status: 'owned',
    match: 'service.name',
    service: 'checkout',
  },
  {
    name: 'an unknown service.name falls back to the selectors',
    attributes: { 'service.name': 'unknown_service:node', 'k8s.namespace.name': 'payments' },
    status: 'owned',
    match: 'selector:k8s.namespace.name:exact:payments',
    service: 'ledger',
    environment: 'prod',
  },
  {
    name: 'exact beats glob on the same attribute',
    attributes: { 'k8s.namespace.name': 'payments' },
    status: 'owned',
    match: 'selector:k8s.namespace.name:exact:payments',
    service: 'ledger',
    environment: 'prod',
  },
  {
    name: 'a glob matches',
    attributes: { 'k8s.namespace.name': 'payouts' },
    status: 'owned',
    match: 'selector:k8s.namespace.name:glob:pay*',
    service: 'checkout',
  },
  {
    name: 'the longest prefix wins',
    attributes: { 'aws.log.group.names': ['/aws/lambda/checkout-api-prod'] },
    status: 'owned',
    match: 'selector:aws.log.group.names:prefix:/aws/lambda/checkout-api-',
    service: 'checkout-api',
  },
  {
    name: 'any element of a list attribute can match',
    attributes: { 'aws.log.group.names': ['/other', '/aws/lambda/checkout-worker'] },
    status: 'owned',
    match: 'selector:aws.log.group.names:prefix:/aws/lambda/checkout-',
    service: 'checkout',
  },
  {
    name: 'the glob with more literal characters wins',
    attributes: { 'faas.name': 'search-index-fn' },
    status: 'owned',
    match: 'selector:faas.name:glob:search-*-fn',
    service: 'search-b',
  },
  {
    name: 'nothing matches: unowned',
    attributes: { 'service.name': 'rogue' },
    status: 'unowned',
    match: 'none',
  },
  {
    name: 'the named environment, when the service runs there',
    attributes: { 'service.name': 'checkout', 'deployment.environment.name': 'staging' },
    status: 'owned',
    match: 'service.name',
    service: 'checkout',
    environment: 'staging',
  },
  {
    name: 'a service with one environment gets it without being told',
    attributes: { 'service.name': 'ledger' },
    status: 'owned',
    match: 'service.name',
    service: 'ledger',
    environment: 'prod',
  },
];

describe('resolveOwnership', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = resolveOwnership(c.attributes, catalog());
      assert.equal(result.status, c.status);
      assert.equal(result.attributes['ownership.status'], c.status);
      assert.equal(result.attributes['ownership.match'], c.match);
      assert.equal(result.attributes['ownership.service'], c.service);
      assert.equal(result.attributes['ownership.environment'], c.environment);
    });
  }

  it('walks service → team → repository → environment into the ownership context', () => {
    const { attributes } = resolveOwnership(
      { 'service.name': 'checkout', 'deployment.environment.name': 'prod' },
      catalog(),
    );
    assert.deepEqual(attributes, {
      'ownership.status': 'owned',
      'ownership.match': 'service.name',
      'ownership.service': 'checkout',
      'ownership.team': 'payments',
      'ownership.team.name': 'Payments',
      'ownership.contact.slack': '#payments',
      'ownership.contact.email': 'payments@acme.example',
      'ownership.contact.oncall': 'payments-primary',
      'ownership.repository': 'github.com/acme/checkout',
      'ownership.repository.url': 'https://github.com/acme/checkout',
      'ownership.tier': 'tier-1',
      'ownership.lifecycle': 'production',
      'ownership.runbook.url': 'https://runbooks.acme.example/checkout',
      'ownership.data_classification': 'confidential',
      'ownership.environment': 'prod',
      'ownership.cloud.account.id': '123456789012',
    });
  });

  it('says unresolved, not unowned, when the catalog cannot be read', () => {
    const down = catalog({ service: () => 'unavailable', selectors: () => 'unavailable' });
    assert.equal(resolveOwnership({ 'service.name': 'checkout' }, down).status, 'unresolved');
    assert.equal(
      resolveOwnership({ 'k8s.namespace.name': 'payments' }, catalog({ selectors: () => 'unavailable' }))
        .status,
      'unresolved',
    );
    assert.equal(
      resolveOwnership({ 'service.name': 'checkout' }, catalog({ team: () => 'unavailable' })).status,
      'unresolved',
    );
  });

  it('breaks ties between equally specific selectors by service id, stably', () => {
    const matcher = compileSelectors([
      { id: 'zeta', selectors: [{ attribute: 'faas.name', match: 'prefix', value: 'fn-' }] },
      { id: 'alpha', selectors: [{ attribute: 'faas.name', match: 'prefix', value: 'fn-' }] },
    ]);
    assert.equal(matcher.match({ 'faas.name': 'fn-1' })?.service, 'alpha');
  });
});
