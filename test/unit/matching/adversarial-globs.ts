/**
 * Run as a child process by glob.test.ts, so that a matcher that backtracks
 * (minutes on these inputs) is killed by a deadline instead of hanging the suite.
 * Prints one JSON line: the results of every adversarial match.
 */
import { globMatches } from '#shared/matching/glob';

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
console.log(JSON.stringify(results.slice(0, cases.length)));
