/** How `portolan` picks a command and turns a misuse into an exit code, before any request is made. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodes, main } from '#cli/portolan';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const offline = { PORTOLAN_API_URL: 'https://portolan.invalid', PORTOLAN_TOKEN: 'not-used' };

describe('portolan command dispatch', () => {
  it('answers --version and --help without the API, and no command with the usage and exit 1', async () => {
    assert.equal((await run(['--version'])).code, exitCodes.ok);
    const help = await run(['--help']);
    assert.equal(help.code, exitCodes.ok);
    assert.match(help.out, /^usage: portolan <command>/);
    const none = await run([]);
    assert.equal(none.code, exitCodes.invalid);
    assert.match(none.out, /^usage:/);
  });

  it('refuses unknown commands, including names every object has, with the usage', async () => {
    for (const command of ['frobnicate', 'constructor', 'toString', '__proto__']) {
      const r = await run([command], offline);
      assert.equal(r.code, exitCodes.invalid, command);
      assert.match(r.err, new RegExp(`unknown command "${command}"[\\s\\S]*usage:`), command);
    }
  });

  it('names what a command needs before calling the API', async () => {
    const cases: [string[], RegExp][] = [
      [['apply'], /apply needs -f <file\|dir>/],
      [['diff'], /diff needs -f/],
      [['get', 'team'], /get needs a kind/],
      [['get', 'planet', 'earth'], /get needs a kind/],
      [['resolve', 'service.name'], /resolve needs attributes as key=value/],
      [['audit', 'checkout'], /audit needs an entity/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv, offline);
      assert.equal(r.code, exitCodes.invalid, argv.join(' '));
      assert.match(r.err, message, argv.join(' '));
    }
  });

  it('exits 3 when no API is configured, and 1 on an option it does not know', async () => {
    const r = await run(['whoami'], { PORTOLAN_LOCAL_STATE: '/nonexistent' });
    assert.equal(r.code, exitCodes.access);
    assert.match(r.err, /^error: /);
    assert.equal((await run(['whoami', '--frobnicate'], offline)).code, exitCodes.invalid);
  });
});
