import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldDiff, planApply, summarize } from '#shared/catalog/apply-plan';
import type { EntityRef } from '#shared/catalog/entity-kinds';
import { fromBackstage } from '#shared/catalog/import-backstage';
import { catchAllTeam } from '#shared/catalog/import-codeowners';

describe('apply plan', () => {
  const current = new Map<EntityRef, { doc: Record<string, unknown>; version: number }>([
    ['team/payments', { doc: { id: 'payments', name: 'Payments', contacts: { slack: '#pay' } }, version: 3 }],
    ['service/checkout', { doc: { id: 'checkout', team: 'payments', tier: 'tier-2' }, version: 7 }],
  ]);

  it('creates, updates with a field diff, leaves equal documents alone, in reference order (parents first)', () => {
    const plan = planApply(
      [
        { kind: 'service', id: 'checkout', team: 'payments', tier: 'tier-1' },
        { kind: 'service', id: 'ledger', team: 'finance' },
        { kind: 'team', id: 'finance', name: 'Finance', contacts: {}, parent: 'payments' },
        { kind: 'team', id: 'payments', contacts: { slack: '#pay' }, name: 'Payments' },
      ],
      current,
    );
    assert.deepEqual(
      plan.map((c) => [c.ref, c.action, c.expected]),
      [
        ['team/payments', 'unchanged', 3],
        ['team/finance', 'create', 'absent'],
        ['service/checkout', 'update', 7],
        ['service/ledger', 'create', 'absent'],
      ],
    );
    assert.deepEqual(plan[2]?.diff, [{ path: 'tier', before: 'tier-2', after: 'tier-1' }]);
    assert.deepEqual(summarize(plan), { create: 2, update: 1, delete: 0, unchanged: 1 });
  });

  it('writes a parent team before its child', () => {
    const plan = planApply(
      [
        { kind: 'team', id: 'child', name: 'c', parent: 'parent' },
        { kind: 'team', id: 'parent', name: 'p' },
      ],
      new Map(),
    );
    assert.deepEqual(
      plan.map((c) => c.id),
      ['parent', 'child'],
    );
  });

  it('deletes only prunable entities the document omits, services before repositories', () => {
    const plan = planApply([{ kind: 'service', id: 'checkout', team: 'payments', tier: 'tier-2' }], current, [
      { kind: 'repository', id: 'github.com/acme/checkout', version: 1 },
      { kind: 'service', id: 'checkout', version: 7 },
      { kind: 'service', id: 'old', version: 2 },
    ]);
    assert.deepEqual(
      plan.map((c) => [c.ref, c.action]),
      [
        ['service/checkout', 'unchanged'],
        ['service/old', 'delete'],
        ['repository/github.com/acme/checkout', 'delete'],
      ],
    );
  });

  it('diffs nested fields by path, arrays whole, ignoring key order', () => {
    assert.deepEqual(
      fieldDiff(
        { contacts: { slack: '#a', email: 'a@x' }, selectors: [1, 2], b: 1 },
        { b: 1, contacts: { email: 'a@x' }, selectors: [2, 1] },
      ),
      [
        { path: 'contacts.slack', before: '#a' },
        { path: 'selectors', before: [1, 2], after: [2, 1] },
      ],
    );
  });
});

describe('imports', () => {
  it('maps Backstage Group, Component, Resource and System onto teams, services and repositories', () => {
    const { entities, skipped } = fromBackstage([
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Group',
        metadata: { name: 'pay' },
        spec: { profile: { displayName: 'Pay', email: 'p@x' }, parent: 'group:default/eng' },
      },
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'System',
        metadata: { name: 'payments' },
        spec: { owner: 'group:pay' },
      },
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: 'gw',
          annotations: { 'github.com/project-slug': 'acme/gw' },
          links: [{ url: 'https://rb', title: 'Runbook' }],
        },
        spec: { owner: 'user:default/jane', lifecycle: 'production' },
      },
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Resource',
        metadata: { name: 'db' },
        spec: { system: 'payments' },
      },
      { apiVersion: 'backstage.io/v1alpha1', kind: 'Location', metadata: { name: 'loc' }, spec: {} },
      { kind: 'Component', metadata: { name: 'not-backstage' } },
    ]);
    assert.deepEqual(entities, [
      { kind: 'team', id: 'pay', name: 'Pay', contacts: { email: 'p@x' }, parent: 'eng' },
      {
        kind: 'service',
        id: 'gw',
        team: 'jane',
        repository: 'github.com/acme/gw',
        lifecycle: 'production',
        runbook: 'https://rb',
      },
      { kind: 'service', id: 'db', team: 'pay' },
      { kind: 'repository', id: 'github.com/acme/gw', team: 'jane', url: 'https://github.com/acme/gw' },
    ]);
    assert.deepEqual(skipped, ['Location loc: no Portolan equivalent']);
  });

  it('takes the team of the last CODEOWNERS catch-all rule', () => {
    assert.deepEqual(catchAllTeam('# c\n* @acme/a @jane\n/docs/ @acme/docs\n*   @acme/b # later wins\n'), {
      team: 'b',
      line: 4,
    });
    assert.equal(catchAllTeam('/src/ @acme/a\n'), undefined);
    assert.equal(
      catchAllTeam('* @acme/a\n* @jane\n'),
      undefined,
      'a later catch-all without a team overrides',
    );
  });
});
