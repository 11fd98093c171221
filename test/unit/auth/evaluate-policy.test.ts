import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize, effectivePermissions } from '#shared/auth/evaluate-policy';
import { type Policy, policySchema } from '#shared/auth/policy-schema';
import type { Principal } from '#shared/auth/principal';

const github = (repository: string, extra: Record<string, unknown> = {}): Principal => ({
  issuer: 'https://token.actions.githubusercontent.com',
  subject: `repo:${repository}:ref:refs/heads/main`,
  scopes: [],
  claims: {
    iss: 'https://token.actions.githubusercontent.com',
    repository,
    repository_owner: repository.split('/')[0],
    ...extra,
  },
});
const scoped = (...scopes: string[]): Principal => ({
  issuer: 'https://idp',
  subject: 'c',
  scopes,
  claims: {},
});

const ownRepository: Policy = policySchema.parse({
  id: 'ci-own-repo',
  principal: { iss: 'https://token.actions.githubusercontent.com', repository_owner: 'acme' },
  statements: [
    {
      sid: 'OwnServices',
      effect: 'allow',
      actions: ['catalog:PutService', 'catalog:DeleteService'],
      resources: ['service/*'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
      conditions: { StringEquals: { 'resource.repository': 'github.com/${token.repository}' } },
    },
    {
      sid: 'OwnRepository',
      effect: 'allow',
      actions: ['catalog:PutRepository'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
      resources: ['repository/github.com/${token.repository}'],
    },
    {
      sid: 'NoTierZero',
      effect: 'deny',
      actions: ['catalog:Put*'],
      resources: ['*'],
      conditions: { StringEquals: { 'resource.tier': 'tier-0' } },
    },
    {
      sid: 'NoForks',
      effect: 'deny',
      actions: ['*'],
      resources: ['*'],
      conditions: { StringLike: { 'token.ref': 'refs/pull/*' } },
    },
  ],
});

const checkout = { id: 'checkout', team: 'payments', repository: 'github.com/acme/checkout', tier: 'tier-1' };

const cases: {
  name: string;
  principal: Principal;
  action: string;
  resource: string;
  documents?: Record<string, unknown>[];
  policies?: Policy[];
  allowed: boolean;
  decidedBy: string;
}[] = [
  {
    name: 'nothing granted: default deny',
    principal: scoped(),
    action: 'catalog:GetService',
    resource: 'service/checkout',
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'catalog.read allows reads',
    principal: scoped('portolan/catalog.read'),
    action: 'catalog:GetService',
    resource: 'service/checkout',
    allowed: true,
    decidedBy: 'builtin/portolan/catalog.read#ReadCatalog',
  },
  {
    name: 'catalog.read does not allow writes',
    principal: scoped('portolan/catalog.read'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'catalog.write does not grant policy changes',
    principal: scoped('portolan/catalog.write'),
    action: 'policy:PutPolicy',
    resource: 'policy/x',
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'audit.read reads the audit log',
    principal: scoped('portolan/audit.read'),
    action: 'audit:VerifyChain',
    resource: 'audit/service/checkout',
    allowed: true,
    decidedBy: 'builtin/portolan/audit.read#ReadAudit',
  },
  {
    name: 'admin may do anything',
    principal: scoped('portolan/admin'),
    action: 'policy:PutPolicy',
    resource: 'policy/x',
    allowed: true,
    decidedBy: 'builtin/portolan/admin#Administer',
  },
  {
    name: 'an unknown scope grants nothing',
    principal: scoped('portolan/everything'),
    action: 'catalog:GetService',
    resource: 'service/checkout',
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'a repository token creates a service of its own repository',
    principal: github('acme/checkout'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [checkout],
    allowed: true,
    decidedBy: 'policy/ci-own-repo#OwnServices',
  },
  {
    name: 'a repository token may not create a service of another repository',
    principal: github('acme/search'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [checkout],
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'a repository token may not move its service to another repository',
    principal: github('acme/checkout'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [checkout, { ...checkout, repository: 'github.com/acme/search' }],
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'a repository token may not take over another repository’s service',
    principal: github('acme/search'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [checkout, { ...checkout, repository: 'github.com/acme/search' }],
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'explicit deny wins over an allow, on the proposed document',
    principal: github('acme/checkout'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [checkout, { ...checkout, tier: 'tier-0' }],
    allowed: false,
    decidedBy: 'policy/ci-own-repo#NoTierZero',
  },
  {
    name: 'explicit deny wins over an allow, on the current document',
    principal: github('acme/checkout'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [{ ...checkout, tier: 'tier-0' }, checkout],
    allowed: false,
    decidedBy: 'policy/ci-own-repo#NoTierZero',
  },
  {
    name: 'explicit deny wins over a built-in admin allow',
    principal: { ...github('acme/checkout', { ref: 'refs/pull/7/merge' }), scopes: ['portolan/admin'] },
    action: 'catalog:GetTeam',
    resource: 'team/payments',
    allowed: false,
    decidedBy: 'policy/ci-own-repo#NoForks',
  },
  {
    name: 'token substitution in a resource pattern',
    principal: github('acme/checkout'),
    action: 'catalog:PutRepository',
    resource: 'repository/github.com/acme/checkout',
    documents: [{ id: 'github.com/acme/checkout', team: 'payments' }],
    allowed: true,
    decidedBy: 'policy/ci-own-repo#OwnRepository',
  },
  {
    name: 'token substitution does not leak to other repositories',
    principal: github('acme/checkout'),
    action: 'catalog:PutRepository',
    resource: 'repository/github.com/acme/search',
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'a policy whose principal does not match does not apply',
    principal: github('globex/checkout'),
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [{ ...checkout, repository: 'github.com/globex/checkout' }],
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'a missing claim in a substitution matches nothing',
    principal: {
      ...github('acme/checkout'),
      claims: { iss: 'https://token.actions.githubusercontent.com', repository_owner: 'acme' },
    },
    action: 'catalog:PutService',
    resource: 'service/checkout',
    documents: [{ ...checkout, repository: 'github.com/' }],
    allowed: false,
    decidedBy: 'default-deny',
  },
  {
    name: 'a resource condition cannot allow when there is no document to test',
    principal: github('acme/checkout'),
    action: 'catalog:DeleteService',
    resource: 'service/ghost',
    documents: [],
    allowed: false,
    decidedBy: 'default-deny',
  },
];

describe('authorize', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = authorize({
        principal: c.principal,
        action: c.action,
        resource: c.resource,
        documents: c.documents ?? [],
        policies: c.policies ?? [ownRepository],
      });
      assert.equal(decision.decidedBy, c.decidedBy);
      assert.equal(decision.allowed, c.allowed);
      assert.match(decision.reason, c.allowed ? /allowed by/ : /denied|default deny/);
    });
  }

  it('StringNotEquals and StringNotLike hold when the field is absent or different', () => {
    const policy = policySchema.parse({
      id: 'not',
      statements: [
        {
          sid: 'NotProd',
          effect: 'allow',
          actions: ['catalog:PutEnvironment'],
          resources: ['environment/*'],
          conditions: {
            StringNotEquals: { 'resource.cloud.accountId': '111' },
            StringNotLike: { 'resource.id': 'prod*' },
          },
        },
      ],
    });
    const decide = (doc: Record<string, unknown>) =>
      authorize({
        principal: scoped(),
        action: 'catalog:PutEnvironment',
        resource: `environment/${doc.id}`,
        documents: [doc],
        policies: [policy],
      }).allowed;
    assert.equal(decide({ id: 'dev' }), true);
    assert.equal(decide({ id: 'dev', cloud: { accountId: '222' } }), true);
    assert.equal(decide({ id: 'dev', cloud: { accountId: '111' } }), false);
    assert.equal(decide({ id: 'prod-eu' }), false);
  });

  it('matches array fields when any element matches', () => {
    const policy = policySchema.parse({
      id: 'arr',
      statements: [
        {
          sid: 'Staging',
          effect: 'allow',
          actions: ['catalog:PutService'],
          resources: ['*'],
          conditions: { StringEquals: { 'resource.environments': 'staging' } },
        },
      ],
    });
    const decide = (environments: string[]) =>
      authorize({
        principal: scoped(),
        action: 'catalog:PutService',
        resource: 'service/a',
        documents: [{ environments }],
        policies: [policy],
      }).allowed;
    assert.equal(decide(['prod', 'staging']), true);
    assert.equal(decide(['prod']), false);
  });

  it('matches a substituted claim literally: a claim of acme/* or acme/check?ut does not widen a statement', () => {
    const policy = policySchema.parse({
      id: 'claims',
      statements: [
        {
          sid: 'OwnRepository',
          effect: 'allow',
          actions: ['catalog:PutRepository'],
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
          resources: ['repository/github.com/${token.repository}'],
        },
        {
          sid: 'OwnServicesLike',
          effect: 'allow',
          actions: ['catalog:PutService'],
          resources: ['service/*'],
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, IAM's ${...} syntax
          conditions: { StringLike: { 'resource.repository': 'github.com/${token.repository}*' } },
        },
      ],
    });
    const decide = (
      repository: string,
      action: string,
      resource: string,
      doc: Record<string, unknown> = {},
    ) =>
      authorize({ principal: github(repository), action, resource, documents: [doc], policies: [policy] })
        .allowed;
    const payments = 'repository/github.com/acme/payments';
    assert.equal(decide('acme/payments', 'catalog:PutRepository', payments), true);
    assert.equal(decide('acme/*', 'catalog:PutRepository', payments), false);
    assert.equal(decide('acme/p?yments', 'catalog:PutRepository', payments), false);
    const checkout = { repository: 'github.com/acme/checkout' };
    assert.equal(decide('acme/checkout', 'catalog:PutService', 'service/c', checkout), true);
    assert.equal(decide('acme/check?ut', 'catalog:PutService', 'service/c', checkout), false);
    assert.equal(decide('acme/*', 'catalog:PutService', 'service/c', checkout), false);
    // The author's own wildcard after the claim still works: a claim that is a prefix matches.
    assert.equal(decide('acme/check', 'catalog:PutService', 'service/c', checkout), true);
  });
});

describe('effectivePermissions', () => {
  it('lists the built-in and matching stored statements with token variables resolved', () => {
    const permissions = effectivePermissions(
      { ...github('acme/checkout'), scopes: ['portolan/catalog.read'] },
      [ownRepository],
    );
    assert.deepEqual(
      permissions.allow.map((s) => `${s.source}#${s.sid}`),
      [
        'builtin/portolan/catalog.read#ReadCatalog',
        'policy/ci-own-repo#OwnServices',
        'policy/ci-own-repo#OwnRepository',
      ],
    );
    assert.deepEqual(permissions.allow[1]?.conditions, {
      StringEquals: { 'resource.repository': ['github.com/acme/checkout'] },
    });
    assert.deepEqual(
      permissions.deny.map((s) => s.sid),
      ['NoTierZero', 'NoForks'],
    );
  });

  it('shows nothing for a caller no policy applies to', () => {
    assert.deepEqual(effectivePermissions(scoped(), [ownRepository]), {
      allow: [],
      deny: [],
    });
  });
});

describe('policySchema', () => {
  it('rejects duplicate sids, unknown operators and malformed condition keys', () => {
    const base = { id: 'p', statements: [{ sid: 'A', effect: 'allow', actions: ['*'], resources: ['*'] }] };
    assert.equal(policySchema.safeParse(base).success, true);
    assert.equal(
      policySchema.safeParse({ ...base, statements: [...base.statements, ...base.statements] }).success,
      false,
    );
    const withCondition = (conditions: unknown) =>
      policySchema.safeParse({ id: 'p', statements: [{ ...base.statements[0], conditions }] }).success;
    assert.equal(withCondition({ NumericEquals: { 'resource.tier': '1' } }), false);
    assert.equal(withCondition({ StringEquals: { tier: '1' } }), false);
    assert.equal(withCondition({ StringEquals: { 'token.repository': ['a', 'b'] } }), true);
  });
});
