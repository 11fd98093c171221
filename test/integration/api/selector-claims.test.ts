import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, claimsFixture, resolvedService, state, token, unique } from './api-client.ts';

/** A selector is a claim on telemetry: a repository-scoped job cannot take another team's. */
describe('selector claims over HTTP', () => {
  const { team, mine, theirs, put, removeCreated, ...fixture } = claimsFixture();
  const victim = unique('victim');
  const namespace = unique('payments');
  const functionPrefix = unique('pay');
  let job: string;

  before(async () => {
    job = await fixture.job();
    const owned = await put(victim, {
      repository: theirs,
      selectors: [
        { attribute: 'k8s.namespace.name', match: 'exact', value: namespace },
        { attribute: 'service.name', match: 'prefix', value: `${functionPrefix}-` },
      ],
    });
    assert.equal(owned.status, 201, JSON.stringify(owned.body));
  });

  after(removeCreated);

  it("refuses a job's exact copy of another team's selector with 409 naming the owner; resolve still answers the owner", async () => {
    const copy = { attribute: 'k8s.namespace.name', match: 'exact', value: namespace };
    const hijack = await put(unique('aaa'), { repository: mine, selectors: [copy] }, job);
    assert.equal(hijack.status, 409, JSON.stringify(hijack.body));
    assert.equal(hijack.headers.get('content-type'), 'application/problem+json');
    assert.equal(hijack.body.owner, `service/${victim}`);
    assert.match(String(hijack.body.detail), new RegExp(`service/${victim}`));

    const viaApply = await call('POST', '/v1/apply', {
      bearer: job,
      body: {
        apiVersion: 'portolan/v1',
        entities: [{ kind: 'service', id: unique('aaa'), team, repository: mine, selectors: [copy] }],
      },
    });
    assert.equal(viaApply.status, 409, JSON.stringify(viaApply.body));
    assert.equal(viaApply.body.owner, `service/${victim}`);

    const mineAlready = unique('aaa');
    assert.equal((await put(mineAlready, { repository: mine }, job)).status, 201);
    const added = await put(mineAlready, { repository: mine, selectors: [copy] }, job);
    assert.equal(added.status, 409, 'adding the claim to an existing service is refused too');

    assert.equal(await resolvedService({ 'k8s.namespace.name': namespace }), victim);
  });

  it('refuses a service whose id another service already claims on service.name', async () => {
    const r = await put(`${functionPrefix}-checkout`, { repository: mine }, job);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.owner, `service/${victim}`);
    assert.equal(await resolvedService({ 'service.name': `${functionPrefix}-checkout` }), victim);
  });

  it('lets a job claim what takes nothing from anyone, and a caller who may change the owner claim anything', async () => {
    const narrower = await put(
      unique('svc'),
      {
        repository: mine,
        selectors: [{ attribute: 'k8s.namespace.name', match: 'glob', value: `${namespace}*` }],
      },
      job,
    );
    assert.equal(narrower.status, 201, JSON.stringify(narrower.body));
    assert.equal(
      await resolvedService({ 'k8s.namespace.name': namespace }),
      victim,
      'exact still beats the glob',
    );

    const byAdmin = await put(unique('svc'), {
      repository: theirs,
      selectors: [{ attribute: 'k8s.namespace.name', match: 'exact', value: namespace }],
    });
    assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
  });

  it('requires catalog:ClaimTelemetry for a catch-all such as a * glob on service.name', async () => {
    const catchAll = { attribute: 'service.name', match: 'glob', value: '*' };
    const r = await put(unique('svc'), { repository: mine, selectors: [catchAll] }, job);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.match(String(r.body.detail), /catalog:ClaimTelemetry/);
    assert.match(String(r.body.detail), /selector\/service\.name:glob:\*/);

    // An admin holds it; here on an attribute no other test's telemetry carries.
    const own = { attribute: `test.${unique('attr')}`, match: 'glob', value: '*' };
    assert.equal((await put(unique('svc'), { repository: mine, selectors: [own] })).status, 201);
  });

  it('resolves against an adversarial glob selector and a 1,024-character value without stalling', async () => {
    const attribute = `test.${unique('redos')}`;
    const stall = { attribute, match: 'glob', value: '*a*a*a*a*a*a*a*a*!' };
    assert.equal((await put(unique('svc'), { repository: theirs, selectors: [stall] })).status, 201);
    const response = await fetch(
      `${state.apiUrl}/v1/resolve?${new URLSearchParams({ [attribute]: 'a'.repeat(1_024) })}`,
      {
        headers: { authorization: `Bearer ${await token('reader')}` },
        signal: AbortSignal.timeout(10_000),
      },
    );
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, 'unowned');
  });
});
