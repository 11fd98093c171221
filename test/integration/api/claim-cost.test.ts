import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type AccessControl, makeAccessControl } from '#functions/api/access-control';
import { refusedClaims } from '#functions/api/routes/telemetry-claims';
import type { Principal } from '#shared/auth/principal';
import type { Selector } from '#shared/catalog/entity-schemas';
import type { ObservedSource } from '#shared/ownership/observed-sources';
import type { CatalogStore, ChangeContext, StoredDocument } from '#shared/store/catalog-store';
import { makeDynamoCatalogStore } from '#shared/store/dynamodb-catalog-store';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { createIsolatedTables } from '../../support/isolated-tables.ts';

/** What a claim check authorizes as the catalog grows: the owners a write contests, not the catalog. */
describe('claim check cost at catalog scale', () => {
  const services = 2_000;
  const job: Principal = {
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'repo:acme/mine:ref:refs/heads/main',
    scopes: [],
    claims: {
      iss: 'https://token.actions.githubusercontent.com',
      repository: 'acme/mine',
      repository_owner: 'acme',
    },
  };
  const namespace = (i: number): Selector => ({
    attribute: 'k8s.namespace.name',
    match: 'exact',
    value: `team-${i}`,
  });
  const stored: StoredDocument[] = Array.from({ length: services }, (_, i) => ({
    id: `svc-${i}`,
    team: 'theirs',
    repository: 'github.com/acme/theirs',
    selectors: [namespace(i), { attribute: 'faas.name', match: 'glob', value: `fn-${i}-*` }],
  }));
  const byId = new Map(stored.map((s) => [s.id, s]));
  let decided: string[];
  let access: AccessControl;

  before(async () => {
    const tables = await createIsolatedTables();
    const store: CatalogStore = makeDynamoCatalogStore({
      ...tables,
      client: createDocumentClient(tables.client),
    });
    const ctx: ChangeContext = {
      actor: { iss: 'https://issuer.test', sub: 'claim-cost' },
      requestId: 'claim-cost',
    };
    await store.put(
      'policy',
      {
        id: 'ci-own-repo',
        principal: { iss: 'https://token.actions.githubusercontent.com', repository_owner: 'acme' },
        statements: [
          {
            sid: 'OwnServices',
            effect: 'allow',
            actions: ['catalog:PutService'],
            resources: ['service/*'],
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
            conditions: { StringEquals: { 'resource.repository': 'github.com/${token.repository}' } },
          },
        ],
      },
      undefined,
      ctx,
    );
    const real = makeAccessControl(store);
    access = {
      ...real,
      decide: (principal, action, resource, documents) => {
        decided.push(`${action} ${resource}`);
        return real.decide(principal, action, resource, documents);
      },
    };
  });

  const check = (proposed: StoredDocument, observed: ObservedSource[] = []) => {
    decided = [];
    return refusedClaims(access, job, [{ proposed }], [...stored, proposed], byId, observed);
  };
  const newcomer = (selectors: Selector[]): StoredDocument => ({
    id: 'newcomer',
    team: 'mine',
    repository: 'github.com/acme/mine',
    selectors,
  });

  it(`decides only the one owner a write contests among ${services.toLocaleString('en')}, and refuses it`, async () => {
    const refusals = await check(
      newcomer([namespace(7), { attribute: 'faas.name', match: 'prefix', value: 'newcomer-' }]),
    );
    assert.deepEqual(decided, ['catalog:PutService service/svc-7']);
    assert.deepEqual(
      refusals.contested.map((c) => [c.owner, c.claim.value]),
      [['svc-7', 'team-7']],
    );
  });

  it('decides nothing when a write contests nobody', async () => {
    const refusals = await check(
      newcomer([{ attribute: 'k8s.namespace.name', match: 'exact', value: 'fresh' }]),
    );
    assert.deepEqual(decided, []);
    assert.deepEqual(refusals, { forbidden: [], contested: [], taken: [] });
  });

  it('decides an owner whose observed source would move once, however many of its sources move', async () => {
    const source = (process: string): ObservedSource => ({
      attributes: {
        'service.name': process,
        'k8s.namespace.name': 'team-3',
        'k8s.cluster.name': 'blue-cluster-of-many',
      },
      owner: 'svc-3',
      firstSeen: '2026-11-25T00:00:00.000Z',
      lastSeen: '2026-11-25T00:00:00.000Z',
    });
    const cluster: Selector = {
      attribute: 'k8s.cluster.name',
      match: 'exact',
      value: 'blue-cluster-of-many',
    };
    const refusals = await check(newcomer([cluster]), [source('a'), source('b'), source('c')]);
    assert.deepEqual(decided, ['catalog:PutService service/svc-3']);
    assert.deepEqual(
      refusals.taken.map((t) => [t.from, t.to]),
      [
        ['svc-3', 'newcomer'],
        ['svc-3', 'newcomer'],
        ['svc-3', 'newcomer'],
      ],
    );
  });
});
