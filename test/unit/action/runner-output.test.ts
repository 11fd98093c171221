/**
 * What the action writes for the runner and for people, from hostile values:
 * annotations stay one workflow command whatever the message or file name, and
 * plan tables stay tables whatever the entity ids and field values hold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlanReport } from '#cli/render';
import { maxRows, planMarkdown } from '../../../action/src/plan-markdown.ts';
import { annotation } from '../../../action/src/workflow-commands.ts';

const decodeCommand = (text: string) =>
  text
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%25/g, '%');

describe('annotations', () => {
  it('are one workflow command with exactly the file, line and column given, and the message intact', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.nat(),
        fc.nat(),
        (message, file, line, col) => {
          const command = annotation('error', message, { file, line, col });
          assert.ok(!/[\r\n]/.test(command), 'one line');
          const match = /^::error ([^:]*)::(.*)$/s.exec(command);
          assert.ok(match, command);
          const properties = (match[1] ?? '').split(',').map((p) => p.split('='));
          assert.deepEqual(
            properties.map(([key, value]) => [key, decodeCommand(value ?? '')]),
            [
              ['file', file],
              ['line', String(line)],
              ['col', String(col)],
            ],
          );
          assert.equal(decodeCommand(match[2] ?? ''), message);
        },
      ),
    );
  });

  it('name no location when there is none', () => {
    assert.equal(annotation('warning', '50% done\nnext'), '::warning::50%25 done%0Anext');
  });
});

describe('plan tables', () => {
  const change = fc.record({
    ref: fc.string({ unit: 'binary' }),
    action: fc.constantFrom('create', 'update', 'delete', 'unchanged' as const),
    diff: fc.array(
      fc.record({ path: fc.string({ unit: 'binary' }), before: fc.jsonValue(), after: fc.jsonValue() }),
      {
        maxLength: 3,
      },
    ),
  });

  it('keep three cells per row and no markup but their own, whatever ids and values hold', () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 20 }), (changes) => {
        const report = {
          dryRun: true,
          summary: { create: 0, update: 0, delete: 0, unchanged: 0 },
          changes,
        } as unknown as PlanReport;
        const rows = planMarkdown(report, 'plan')
          .split('\n')
          .filter((line) => line.startsWith('| '));
        const shown = changes.filter((c) => c.action !== 'unchanged');
        assert.equal(
          rows.length,
          shown.length === 0 ? 0 : shown.length + 2,
          'header, separator, one row per change',
        );
        for (const row of rows) {
          assert.equal(row.split('|').length, 5, row);
          assert.equal(row.replace(/<\/?code>|<br>/g, '').includes('<'), false, row);
        }
      }),
    );
  });

  it(`shows at most ${maxRows} changes and counts the rest`, () => {
    const changes = Array.from({ length: maxRows + 7 }, (_, i) => ({
      ref: `service/s${i}`,
      action: 'create',
    }));
    const markdown = planMarkdown(
      {
        dryRun: true,
        summary: { create: changes.length, update: 0, delete: 0, unchanged: 0 },
        changes,
      } as PlanReport,
      'plan',
    );
    assert.equal(markdown.split('\n').filter((l) => l.startsWith('| ➕')).length, maxRows);
    assert.match(markdown, /…and 7 more changes\./);
  });
});
