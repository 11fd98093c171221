/** Hostile query strings on the audit routes: a 400 (or 404) problem, never a 5xx. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createAuditLab } from './audit-lab.ts';

describe('audit routes on hostile input', () => {
  it('answers any cursor, limit or entity with a problem, never a server error', async () => {
    const lab = await createAuditLab();
    await lab.putTeam('payments', 'Payments');
    await lab.digest();
    const text = fc.oneof(
      fc.string(),
      fc.base64String(),
      fc.constantFrom('eyJrIjoiLi4vLi4vZXRjIn0', '0', '-1', '1e9'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/audit/digests', '/v1/audit/heads', '/v1/audit/verify'),
        fc.record({ cursor: text, limit: text, entity: text }, { requiredKeys: [] }),
        async (path, query) => {
          const { status, body } = await lab.get(path, query as Record<string, string>);
          assert.ok([200, 400, 404].includes(status), `${path} ${JSON.stringify(query)} → ${status}`);
          if (status !== 200) assert.equal(typeof body.detail, 'string');
        },
      ),
      { numRuns: 150 },
    );
  });
});
