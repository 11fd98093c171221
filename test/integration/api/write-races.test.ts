import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { call, jobStatements, repositoryJob, teamDoc, unique } from './api-client.ts';

/** A write without If-Match is authorized against the version it replaces, and bounded in time. */
describe('writes without If-Match under concurrent changes, over HTTP', () => {
  const owner = unique('org');
  const team = unique('team');
  const mine = `github.com/${owner}/mine`;
  const theirs = `github.com/${owner}/theirs`;
  let job: string;

  before(async () => {
    job = await repositoryJob(owner, team, [mine, theirs], [jobStatements.ownServices]);
  });

  it('never lets a repository-scoped job change a service moved to another repository meanwhile (100 races)', async () => {
    const escapes: string[] = [];
    const outcomes = new Map<string, number>();
    const race = async (n: number) => {
      const id = unique('raced');
      const created = await call('PUT', `/v1/services/${id}`, { body: { team, repository: mine } });
      assert.equal(created.status, 201);
      const jobWrite =
        n % 2 === 0
          ? call('PUT', `/v1/services/${id}`, {
              bearer: job,
              body: { team, repository: mine, description: 'from the job' },
            })
          : call('DELETE', `/v1/services/${id}`, { bearer: job });
      const [jobResult, move] = await Promise.all([
        jobWrite,
        call('PUT', `/v1/services/${id}`, { body: { team, repository: theirs } }),
      ]);
      const key = `${n % 2 ? 'delete' : 'put'} ${jobResult.status} / move ${move.status}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      const audit = await call('GET', `/v1/audit?entity=service/${id}`);
      for (const event of audit.body.items ?? []) {
        const actor = event.actor as { sub?: string };
        const beforeDoc = event.before as { repository?: string } | null;
        if (actor.sub?.startsWith(`repo:${owner}`) && beforeDoc?.repository !== mine)
          escapes.push(`${id}: ${event.action} of a service in ${beforeDoc?.repository}`);
      }
    };
    // Ten races at a time, each between its own two requests on its own service.
    for (let batch = 0; batch < 10; batch++)
      await Promise.all(Array.from({ length: 10 }, (_, i) => race(batch * 10 + i)));
    assert.deepEqual(escapes, [], `outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });

  it('never answers 412 to 10 concurrent writers without If-Match; each gets 2xx, or 409 "kept changing"', async () => {
    const ids = Array.from({ length: 4 }, () => unique('contended'));
    for (const id of ids)
      assert.equal((await call('PUT', `/v1/teams/${id}`, { body: teamDoc(id) })).status, 201);
    const writes = await Promise.all(
      ids.flatMap((id) =>
        Array.from({ length: 10 }, (_, i) =>
          call('PUT', `/v1/teams/${id}`, { body: teamDoc(id, `writer ${i}`) }),
        ),
      ),
    );
    const statuses = writes.map((w) => w.status);
    assert.ok(!statuses.includes(412), `statuses: ${statuses.join(' ')}`);
    for (const w of writes.filter((r) => r.status === 409))
      assert.match(String(w.body.detail), /kept changing/, JSON.stringify(w.body));
    assert.ok(
      statuses.every((s) => s === 200 || s === 409),
      `statuses: ${statuses.join(' ')}`,
    );

    const deletes = await Promise.all(
      ids.flatMap((id) => Array.from({ length: 10 }, () => call('DELETE', `/v1/teams/${id}`))),
    );
    const deleted = deletes.map((d) => d.status);
    assert.ok(!deleted.includes(412), `statuses: ${deleted.join(' ')}`);
    assert.equal(deleted.filter((s) => s === 204).length, ids.length, `statuses: ${deleted.join(' ')}`);
  });
});
