/**
 * `npx tsx bench/matching/run.ts`: glob matching, the linear matcher against the
 * backtracking regular expression it replaced, side by side in one run, on the
 * patterns selectors and policies really use, then on adversarial ones.
 */
import { compileGlob, matchGlob } from '#shared/matching/glob';

const asRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('')}$`,
    's',
  );

function opsPerSecond(run: () => void, minimumMs = 500): number {
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < minimumMs) {
    for (let i = 0; i < 1_000; i++) run();
    count += 1_000;
    elapsed = performance.now() - started;
  }
  return (count / elapsed) * 1_000;
}

const typical: [string, string[]][] = [
  ['search-*-handler', ['search-index-handler', 'search-query-handler', 'checkout-api', 'search-x']],
  ['catalog:Put*', ['catalog:PutService', 'catalog:GetService']],
  ['service/*', ['service/checkout', 'team/payments']],
  ['repository/github.com/acme/*', ['repository/github.com/acme/checkout', 'repository/github.com/other/x']],
  ['refs/pull/*', ['refs/heads/main', 'refs/pull/12/merge']],
];

/** Counted so that no match is optimised away. */
let matches = 0;
console.log('typical patterns (ops/s, every value once per op)');
for (const [pattern, values] of typical) {
  const regexp = asRegExp(pattern);
  const glob = compileGlob(pattern);
  const viaRegExp = opsPerSecond(() => {
    for (const v of values) if (regexp.test(v)) matches++;
  });
  const viaGlob = opsPerSecond(() => {
    for (const v of values) if (matchGlob(glob, v)) matches++;
  });
  console.log(
    `  ${pattern.padEnd(30)} regexp ${viaRegExp.toFixed(0).padStart(10)}  linear ${viaGlob.toFixed(0).padStart(10)}  linear/regexp ${(viaGlob / viaRegExp).toFixed(2)}`,
  );
}

console.log(`  (${matches} matches)`);
console.log('adversarial: *a*a*a*a*! against "a" × n (ms per match)');
for (const n of [32, 64, 128, 1_024]) {
  const value = 'a'.repeat(n);
  const glob = compileGlob('*a*a*a*a*!');
  let started = performance.now();
  for (let i = 0; i < 100; i++) matchGlob(glob, value);
  const linear = (performance.now() - started) / 100;
  let backtracking = 'not run (minutes)';
  if (n <= 128) {
    const regexp = asRegExp('*a*a*a*a*!');
    started = performance.now();
    regexp.test(value);
    backtracking = `${(performance.now() - started).toFixed(3)} ms`;
  }
  console.log(`  n=${String(n).padEnd(5)} linear ${linear.toFixed(4)} ms   regexp ${backtracking}`);
}
