/** A plan as Markdown for a job summary or a pull request comment: a table of changes with field diffs. */
import type { PlanReport } from '#cli/render';

/** Rows shown before the rest is counted: a comment holds at most 65,536 characters. */
export const maxRows = 150;
/** Characters of one value shown in a diff. */
const maxValue = 200;

const cell = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/[\r\n]+/g, ' ');

const code = (text: string) => `<code>${cell(text)}</code>`;

const shown = (value: unknown) => {
  const text = value === undefined ? '(none)' : JSON.stringify(value);
  return text.length > maxValue ? `${text.slice(0, maxValue)}…` : text;
};

const marks = { create: '➕ create', update: '✏️ update', delete: '➖ delete', unchanged: '' } as const;

export function planMarkdown(report: PlanReport, heading: string): string {
  const { create, update, delete: del, unchanged } = report.summary;
  const verb = report.dryRun ? 'Plan' : 'Applied';
  const lines = [
    `### ${heading}`,
    '',
    `**${verb}:** ${create} to create, ${update} to update, ${del} to delete, ${unchanged} unchanged`,
  ];
  const changes = report.changes.filter((c) => c.action !== 'unchanged');
  if (changes.length === 0) return [...lines, '', 'The catalog already matches the documents.'].join('\n');
  lines.push('', '| change | entity | fields |', '| --- | --- | --- |');
  for (const change of changes.slice(0, maxRows)) {
    const fields = (change.diff ?? [])
      .map((d) => `${code(d.path)}: ${code(shown(d.before))} → ${code(shown(d.after))}`)
      .join('<br>');
    lines.push(`| ${marks[change.action]} | ${code(change.ref)} | ${fields} |`);
  }
  if (changes.length > maxRows) lines.push('', `…and ${changes.length - maxRows} more changes.`);
  return lines.join('\n');
}
