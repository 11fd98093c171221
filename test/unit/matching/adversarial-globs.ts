/**
 * Run as a child process by glob.test.ts, so that a matcher that backtracks
 * (minutes on these inputs) is killed by a deadline instead of hanging the suite.
 * Prints one JSON line: the results of every adversarial match.
 */
import { globMatches } from '#shared/matching/glob';
import { compileSelectors } from '#shared/ownership/selector-matcher';

const value = (length: number, char = 'a') => char.repeat(length);
const cases: [string, string][] = [
  ['*a*a*a*a*!', value(1_024)],
  ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*!', value(1_024)],
  [`${'*?'.repeat(40)}!`, value(1_024)],
  ['*a*a*a*a*a*a', `${value(1_023)}b`],
  [`${'a*'.repeat(500)}b`, value(1_024)],
  ['*a*a*a*a*a', value(1_024)],
];
const results = [];
for (let round = 0; round < 20; round++)
  for (const [pattern, v] of cases) results.push(globMatches(pattern, v));
// The enricher's and /v1/resolve's matcher, with the selector that stalled a shard.
const selectors = compileSelectors([
  { id: 'stall', selectors: [{ attribute: 'faas.name', match: 'glob', value: '*a*a*a*a*a*a*!' }] },
]);
results.push(selectors.match({ 'faas.name': value(1_024) }) === undefined);
console.log(JSON.stringify([...results.slice(0, cases.length), results.at(-1)]));
