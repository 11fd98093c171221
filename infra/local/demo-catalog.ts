/**
 * A small demo catalog for `npm start`: two teams, their repositories, two
 * environments and three services, one found only through a selector. Put
 * through the real API, so the seed is audited like any change.
 */
export const demoCatalog: { collection: string; doc: Record<string, unknown> & { id: string } }[] = [
  {
    collection: 'environments',
    doc: {
      id: 'prod',
      name: 'Production',
      cloud: { provider: 'aws', accountId: '123456789012', region: 'us-east-1' },
    },
  },
  {
    collection: 'environments',
    doc: {
      id: 'staging',
      name: 'Staging',
      cloud: { provider: 'aws', accountId: '210987654321', region: 'us-east-1' },
    },
  },
  {
    collection: 'teams',
    doc: {
      id: 'payments',
      name: 'Payments',
      groups: ['local:payments-eng'],
      contacts: { slack: '#payments', email: 'payments@acme.example', oncall: 'payments-primary' },
    },
  },
  {
    collection: 'teams',
    doc: {
      id: 'search',
      name: 'Search',
      groups: ['local:search-eng'],
      contacts: { slack: '#search', email: 'search@acme.example', oncall: 'search-primary' },
    },
  },
  {
    collection: 'repositories',
    doc: { id: 'github.com/acme/checkout', team: 'payments', url: 'https://github.com/acme/checkout' },
  },
  {
    collection: 'repositories',
    doc: { id: 'github.com/acme/search-api', team: 'search', url: 'https://github.com/acme/search-api' },
  },
  {
    collection: 'services',
    doc: {
      id: 'checkout',
      name: 'Checkout',
      team: 'payments',
      repository: 'github.com/acme/checkout',
      tier: 'tier-1',
      lifecycle: 'production',
      runbook: 'https://runbooks.acme.example/checkout',
      dataClassification: 'confidential',
      environments: ['prod', 'staging'],
      selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: '/aws/lambda/checkout-' }],
    },
  },
  {
    collection: 'services',
    doc: {
      id: 'payments-ledger',
      name: 'Payments ledger',
      team: 'payments',
      repository: 'github.com/acme/checkout',
      tier: 'tier-0',
      lifecycle: 'production',
      dataClassification: 'restricted',
      environments: ['prod'],
      selectors: [{ attribute: 'k8s.namespace.name', match: 'exact', value: 'ledger' }],
    },
  },
  {
    collection: 'services',
    doc: {
      id: 'search-api',
      name: 'Search API',
      team: 'search',
      repository: 'github.com/acme/search-api',
      tier: 'tier-2',
      lifecycle: 'production',
      dataClassification: 'internal',
      environments: ['prod', 'staging'],
      selectors: [{ attribute: 'faas.name', match: 'glob', value: 'search-*-handler' }],
    },
  },
];

/** Seeds through the API; entities that already exist are left alone (`If-None-Match: *` → 412). */
export async function seedDemoCatalog(apiUrl: string, token: string): Promise<number> {
  let created = 0;
  for (const { collection, doc } of demoCatalog) {
    const response = await fetch(`${apiUrl}/v1/${collection}/${encodeURIComponent(doc.id)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-none-match': '*' },
      body: JSON.stringify(doc),
    });
    if (response.status === 201) created++;
    else if (response.status !== 412) {
      throw new Error(
        `seeding ${collection}/${doc.id} failed (${response.status}): ${await response.text()}`,
      );
    }
  }
  return created;
}
