/**
 * Hostile catalog files: an alias bomb, self-reference, deep nesting, an
 * oversized file and random bytes. The CLI answers each with a located message
 * and exit 1, quickly, never with a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DocumentError, loadCatalog, yamlLimits } from '#cli/load-documents';

const dir = mkdtempSync(join(tmpdir(), 'portolan-yaml-'));
const fileWith = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

function portolanDiff(file: string) {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ['bin/portolan.js', 'diff', '-f', file, '--api-url', 'http://127.0.0.1:9', '--token', 'unused'],
    { encoding: 'utf8', env: { PATH: process.env.PATH, NO_COLOR: '1' }, timeout: 60_000 },
  );
  return { code: result.status, stderr: result.stderr, ms: Date.now() - started };
}

const laughs = [
  'apiVersion: portolan/v1',
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => {
    const previous = 'abcdefgh'[i];
    return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`;
  }),
].join('\n');

const nested = (levels: number) =>
  `apiVersion: portolan/v1\nentities:\n${Array.from({ length: levels }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} x\n`;

describe('catalog files within limits', () => {
  it('answers a billion-laughs alias bomb with the alias located and exit 1', () => {
    const { code, stderr, ms } = portolanDiff(fileWith('laughs.yaml', laughs));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /laughs\.yaml:3:8: aliases expand to more than 100 copies/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.ok(ms < 20_000, `${ms} ms`);
  });

  it('locates a self-referencing alias and nesting past the depth limit', () => {
    const selfRef = portolanDiff(fileWith('self.yaml', 'apiVersion: portolan/v1\nentities: &e [*e]\n'));
    assert.equal(selfRef.code, 1, selfRef.stderr);
    assert.match(selfRef.stderr, /self\.yaml:\d+:\d+: entities\[0\]\[0\].*nested more than 32 levels deep/);
    const deep = portolanDiff(fileWith('deep.yaml', nested(40)));
    assert.equal(deep.code, 1, deep.stderr);
    assert.match(deep.stderr, /deep\.yaml:\d+:\d+: entities\.k0\.k1\..*: nested more than 32 levels deep/);
    assert.doesNotMatch(deep.stderr + selfRef.stderr, /\n\s+at /);
  });

  it('refuses a file over 1 MiB before parsing it', () => {
    const big = portolanDiff(
      fileWith('big.yaml', `apiVersion: portolan/v1\n# ${'x'.repeat(yamlLimits.fileBytes)}\n`),
    );
    assert.equal(big.code, 1, big.stderr);
    assert.match(big.stderr, /big\.yaml: \d+ bytes, over the 1048576-byte \(1 MiB\) limit/);
  });

  it('turns any text, aliases and anchors included, into a document or located problems', () => {
    const piece = fc.constantFrom(
      '&a ',
      '*a',
      '&b ',
      '*b',
      '<<: *a',
      '[',
      ']',
      '{',
      '}',
      ': ',
      ', ',
      '- ',
      '\n',
      '  ',
      'x',
      'apiVersion: portolan/v1\n',
      'entities:\n',
      '!!binary ',
      '!!js/function ',
      '---\n',
      '%YAML 1.2\n',
      '"\\ud800"',
      '? ',
      '|\n',
    );
    const text = fc.oneof(
      fc.array(piece, { maxLength: 60 }).map((p) => p.join('')),
      fc.string({ maxLength: 200 }),
    );
    let n = 0;
    fc.assert(
      fc.property(text, (yaml) => {
        const file = fileWith(`fuzz-${n++}.yaml`, yaml);
        try {
          loadCatalog([file]);
        } catch (error) {
          assert.ok(error instanceof DocumentError, String((error as Error).stack));
          for (const problem of error.problems) assert.ok(problem.startsWith(file), problem);
        }
      }),
      { numRuns: 500 },
    );
  });
});
