/**
 * A selector is a claim on the telemetry actually seen: once the enricher has
 * observed a team's records (through the real pipeline on the local stack), a
 * repository-scoped job cannot take them with a selector on another attribute
 * the records also carry, nor by naming a service after their `service.name`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#shared/store/dynamodb-client';
import { kinesisFor, putRecords } from '../../support/kinesis-streams.ts';
import { sdkTraceRequest } from '../../support/telemetry-payloads.ts';
import { call, claimsFixture, resolvedService, state, unique } from './api-client.ts';

const documents = createDocumentClient(
  new DynamoDBClient({ endpoint: state.dynamodb.endpoint, region: state.region, credentials: state.aws }),
);

/** The owner the enricher recorded for sources in `namespace`, once it has (polled). */
async function observedOwner(namespace: string): Promise<string | undefined> {
  const { Items } = await documents.send(
    new QueryCommand({
      TableName: state.dynamodb.tables.catalog,
      KeyConditionExpression: 'pk = :observed',
      FilterExpression: '#attributes.#namespace = :namespace',
      ExpressionAttributeNames: { '#attributes': 'attributes', '#namespace': 'k8s.namespace.name' },
      ExpressionAttributeValues: { ':observed': 'observed', ':namespace': namespace },
    }),
  );
  return Items?.[0]?.owner as string | undefined;
}

describe('claims against observed telemetry over HTTP', () => {
  const { team, mine, theirs, put, removeCreated, ...fixture } = claimsFixture();
  const victim = unique('victim');
  const namespace = unique('payments');
  const cluster = unique('prod-eu-west-1-main');
  const serviceName = unique('checkout');
  const records = {
    'service.name': serviceName,
    'k8s.namespace.name': namespace,
    'k8s.cluster.name': cluster,
  };
  let job: string;

  const resolved = () => resolvedService(records);

  before(async () => {
    job = await fixture.job();
    const owned = await put(victim, {
      repository: theirs,
      selectors: [{ attribute: 'k8s.namespace.name', match: 'exact', value: namespace }],
    });
    assert.equal(owned.status, 201, JSON.stringify(owned.body));
    // The victim's services send telemetry until the enricher (its selectors reloaded within the TTL) records them.
    const kinesis = kinesisFor(state);
    const deadline = Date.now() + 30_000;
    for (let n = 0; (await observedOwner(namespace)) === undefined; n++) {
      assert.ok(Date.now() < deadline, 'the enricher recorded the source within 30 s');
      await putRecords(kinesis, state.kinesis.inputStream, [
        { partitionKey: `${namespace}-${n}`, data: sdkTraceRequest(records) },
      ]);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(await observedOwner(namespace), victim);
    assert.equal(await resolved(), victim);
  });

  after(removeCreated);

  it('refuses an exact selector on the cluster the records also carry, with 409 naming the owner and the source', async () => {
    const takeover = { attribute: 'k8s.cluster.name', match: 'exact', value: cluster };
    const r = await put(unique('svc'), { repository: mine, selectors: [takeover] }, job);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.body.owner, `service/${victim}`);
    assert.equal((r.body.source as Record<string, string>)['k8s.namespace.name'], namespace);
    assert.match(String(r.body.detail), new RegExp(`service/${victim}`));

    const viaApply = await call('POST', '/v1/apply', {
      bearer: job,
      body: {
        apiVersion: 'portolan/v1',
        entities: [{ kind: 'service', id: unique('svc'), team, repository: mine, selectors: [takeover] }],
      },
    });
    assert.equal(viaApply.status, 409, JSON.stringify(viaApply.body));
    assert.equal(viaApply.body.owner, `service/${victim}`);
    assert.equal(await resolved(), victim);
  });

  it("refuses a service named after the records' service.name, or an exact service.name selector that wins the tie", async () => {
    const named = await put(serviceName, { repository: mine }, job);
    assert.equal(named.status, 409, JSON.stringify(named.body));
    assert.equal(named.body.owner, `service/${victim}`);

    const tie = { attribute: 'service.name', match: 'exact', value: serviceName };
    const selected = await put(unique('aaa'), { repository: mine, selectors: [tie] }, job);
    assert.equal(selected.status, 409, JSON.stringify(selected.body));
    assert.equal(selected.body.owner, `service/${victim}`);
    assert.equal(await resolved(), victim);
  });

  it('accepts a claim that takes nothing seen, and any claim by a caller who may change the owner', async () => {
    const elsewhere = { attribute: 'k8s.cluster.name', match: 'exact', value: `${cluster}-staging` };
    const legit = await put(unique('svc'), { repository: mine, selectors: [elsewhere] }, job);
    assert.equal(legit.status, 201, JSON.stringify(legit.body));
    const ownedOnTheirs = await put(serviceName, { repository: theirs });
    assert.equal(ownedOnTheirs.status, 201, 'an admin may move the telemetry');
    assert.equal(await resolved(), serviceName);
  });
});
