import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  compileGlob,
  globMatches,
  globOf,
  globsIntersect,
  literalLength,
  matchGlob,
} from '#shared/matching/glob';

/** The regular expression the globs used to compile to: a correct reference on small inputs. */
const reference = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('')}$`,
    's',
  ).test(value);

const patternOf = (chars: string[], maxLength: number) =>
  fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));

describe('globs', () => {
  it('match IAM-style: * any run (slashes included), ? one character, the rest literal', () => {
    assert.equal(globMatches('service/*', 'service/github.com/acme/x'), true);
    assert.equal(globMatches('catalog:Put*', 'catalog:PutService'), true);
    assert.equal(globMatches('catalog:Put*', 'catalog:GetService'), false);
    assert.equal(globMatches('a?c', 'abc'), true);
    assert.equal(globMatches('a?c', 'ac'), false);
    assert.equal(globMatches('a.c', 'abc'), false, '. is literal');
    assert.equal(globMatches('*', ''), true);
    assert.equal(globMatches('', ''), true);
    assert.equal(literalLength('search-*-fn'), 10);
  });

  it('agree with the regular expression they replace on every small input', () => {
    fc.assert(
      fc.property(
        patternOf(['a', 'b', '*', '?', '.', '/'], 8),
        patternOf(['a', 'b', '.', '/', '\n'], 12),
        (p, v) => assert.equal(matchGlob(compileGlob(p), v), reference(p, v), `${p} ~ ${JSON.stringify(v)}`),
      ),
      { numRuns: 3_000 },
    );
  });

  it('finish adversarial patterns against 1,024-character values in pattern × value steps', () => {
    const script = fileURLToPath(new URL('./adversarial-globs.ts', import.meta.url));
    // A backtracking matcher needs minutes for the first pattern alone; this one needs milliseconds.
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.signal, null, 'the adversarial matches did not finish within 20 s');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [false, false, false, false, false, true, true]);
  });

  it('keep literal pieces literal: a claim of acme/* or acme/check?ut does not widen a pattern', () => {
    const claimed = (claim: string) =>
      globOf([
        { text: 'repository/github.com/', wildcards: true },
        { text: claim, wildcards: false },
      ]);
    assert.equal(matchGlob(claimed('acme/*'), 'repository/github.com/acme/payments'), false);
    assert.equal(matchGlob(claimed('acme/*'), 'repository/github.com/acme/*'), true);
    assert.equal(matchGlob(claimed('acme/check?ut'), 'repository/github.com/acme/checkout'), false);
    assert.equal(literalLength(claimed('acme/*')), 'repository/github.com/acme/*'.length);
  });

  it('tell whether two globs share a value, with a witness both match', () => {
    const shared = globsIntersect(compileGlob('pay*'), compileGlob('*ments')) ?? '';
    assert.ok(globMatches('pay*', shared) && globMatches('*ments', shared), shared);
    assert.equal(globsIntersect(compileGlob('a*'), compileGlob('b*')), undefined);
    assert.equal(globsIntersect(compileGlob('a?c'), compileGlob('*d')), undefined);
    const started = compileGlob(`*${'a*'.repeat(500)}`);
    assert.notEqual(globsIntersect(started, compileGlob(`${'?'.repeat(1_000)}*`)), undefined);
  });

  it('find a shared value exactly when one exists (property, against enumeration)', () => {
    const alphabet = ['a', 'b', 'x'];
    const valuesUpTo = (length: number): string[] =>
      length === 0 ? [''] : [...valuesUpTo(length - 1), ...allOfLength(length)];
    const allOfLength = (length: number): string[] =>
      length === 0 ? [''] : allOfLength(length - 1).flatMap((v) => alphabet.map((c) => v + c));
    const values = valuesUpTo(6);
    fc.assert(
      fc.property(patternOf(['a', 'b', '*', '?'], 4), patternOf(['a', 'b', '*', '?'], 4), (p, q) => {
        const a = compileGlob(p);
        const b = compileGlob(q);
        const shared = globsIntersect(a, b);
        if (shared !== undefined) {
          assert.ok(matchGlob(a, shared) && matchGlob(b, shared), `witness ${shared} of ${p} ∩ ${q}`);
        } else {
          assert.ok(!values.some((v) => matchGlob(a, v) && matchGlob(b, v)), `${p} ∩ ${q} is not empty`);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
