/**
 * The enrich function's deployment options, as its environment gives them:
 * what to do with records it does not stamp, the streams' record size, and
 * the memory that sizes the decompression budget.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

process.env.AWS_REGION ??= 'us-east-1';
// The module builds its Lambda export from the environment on import.
process.env.CATALOG_TABLE ??= 'catalog';
process.env.OUTPUT_STREAM ??= 'out';
const { enrichDepsFromEnv } = await import('#functions/enrich/handler');

const base = { CATALOG_TABLE: 'catalog', OUTPUT_STREAM: 'out', AWS_REGION: 'us-east-1' };

describe('enrich function options', () => {
  it('by default: pass-through, 1 MiB records, a 1,024 MiB budget', () => {
    const deps = enrichDepsFromEnv(base);
    assert.equal(deps.quarantine, undefined);
    assert.equal(deps.maxRecordBytes, 1024 * 1024);
    assert.equal(deps.memoryMiB, 1024);
  });

  it('quarantine needs its stream; the record size and memory come from the environment', () => {
    assert.throws(() => enrichDepsFromEnv({ ...base, UNVOUCHED_RECORDS: 'quarantine' }), /QUARANTINE_STREAM/);
    const deps = enrichDepsFromEnv({
      ...base,
      UNVOUCHED_RECORDS: 'quarantine',
      QUARANTINE_STREAM: 'q',
      MAX_RECORD_BYTES: String(10 * 1024 * 1024),
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
    });
    assert.equal(typeof deps.quarantine, 'function');
    assert.equal(deps.maxRecordBytes, 10 * 1024 * 1024);
    assert.equal(deps.memoryMiB, 2048);
  });

  it('refuses what Kinesis does not offer and unknown modes', () => {
    assert.throws(() => enrichDepsFromEnv({ ...base, MAX_RECORD_BYTES: '512' }), /1-10 MiB/);
    assert.throws(
      () => enrichDepsFromEnv({ ...base, MAX_RECORD_BYTES: String(11 * 1024 * 1024) }),
      /1-10 MiB/,
    );
    assert.throws(
      () => enrichDepsFromEnv({ ...base, UNVOUCHED_RECORDS: 'drop' }),
      /passthrough or quarantine/,
    );
  });

  it('the stamped ownership attributes: all by default, a level or a list, anything else refused at init', () => {
    assert.equal(enrichDepsFromEnv(base).stampedAttributes, undefined, 'full: nothing filtered');
    assert.equal(enrichDepsFromEnv({ ...base, OWNERSHIP_ATTRIBUTES: 'full' }).stampedAttributes, undefined);
    assert.deepEqual(
      [...(enrichDepsFromEnv({ ...base, OWNERSHIP_ATTRIBUTES: 'minimal' }).stampedAttributes ?? [])].sort(),
      ['ownership.match', 'ownership.service', 'ownership.status', 'ownership.team'],
    );
    assert.deepEqual(
      enrichDepsFromEnv({ ...base, OWNERSHIP_ATTRIBUTES: 'ownership.status,ownership.tier' })
        .stampedAttributes,
      new Set(['ownership.status', 'ownership.tier']),
    );
    for (const bad of ['everything', 'ownership.status,ownership.colour', 'status', ''])
      assert.throws(
        () => enrichDepsFromEnv({ ...base, OWNERSHIP_ATTRIBUTES: bad }),
        /^Error: OWNERSHIP_ATTRIBUTES must be/,
        bad,
      );
  });
});
