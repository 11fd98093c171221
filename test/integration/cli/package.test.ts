/**
 * The published CLI as a user gets it: `npm pack` of packages/cli, installed
 * offline into an empty directory far from this repository, run against the
 * local stack. A file or dependency missing from the package fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { bundleCli, cliPackageDir } from '#cli/bundle';
import { state, teamDoc, unique } from '../api/api-client.ts';

const run = (command: string, args: string[], options: { cwd: string; env?: Record<string, string> }) => {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...options.env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

function diskUsage(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + diskUsage(join(path, name)), 0);
}

describe('the @portolan/cli package', () => {
  it('bundles no infrastructure or local-stack code, only what the CLI runs', async () => {
    const metafile = await bundleCli(join(mkdtempSync(join(tmpdir(), 'portolan-bundle-')), 'portolan.js'));
    const sources = Object.keys(metafile.inputs).filter((file) => !file.includes('node_modules/'));
    assert.deepEqual(
      sources.filter((file) => !/^(cli|shared)\//.test(file) && file !== 'packages/cli/package.json'),
      [],
    );
    const packages = new Set(
      Object.keys(metafile.inputs)
        .filter((file) => file.includes('node_modules/'))
        .map((file) => file.split('node_modules/')[1]?.split('/')[0]),
    );
    // canonicalize: the audit chain's hashing, for offline verification of an export.
    assert.deepEqual([...packages].sort(), ['canonicalize', 'yaml', 'zod']);
  });

  it('packs, installs offline into an empty directory and runs apply, diff, resolve and whoami', () => {
    const work = mkdtempSync(join(tmpdir(), 'portolan-pack-'));
    const packed = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: cliPackageDir });
    assert.equal(packed.code, 0, packed.stderr);
    const [tarball] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const packedFiles = tarball?.files.map((f) => f.path) ?? [];
    assert.ok(packedFiles.includes('dist/portolan.js'), packedFiles.join(' '));
    assert.deepEqual(
      packedFiles.filter((f) => !/^dist\/[\w-]+\.js$/.test(f)).sort(),
      ['README.md', 'package.json'],
      'the bundle, its chunks, the manifest and the README: nothing else',
    );

    const home = mkdtempSync(join(tmpdir(), 'portolan-user-'));
    const installed = run(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', join(work, tarball?.filename ?? '')],
      { cwd: home },
    );
    assert.equal(installed.code, 0, installed.stderr);
    assert.deepEqual(readdirSync(join(home, 'node_modules')).sort(), [
      '.bin',
      '.package-lock.json',
      '@portolan',
    ]);
    const bytes = diskUsage(join(home, 'node_modules'));
    assert.ok(bytes < 5 * 1024 * 1024, `installed size ${bytes} bytes exceeds 5 MB`);

    const portolan = (args: string[]) =>
      run(join(home, 'node_modules', '.bin', 'portolan'), args, {
        cwd: home,
        env: { PORTOLAN_LOCAL_STATE: process.env.PORTOLAN_LOCAL_STATE ?? '' },
      });
    const version = portolan(['--version']);
    assert.equal(
      version.stdout.trim(),
      JSON.parse(readFileSync(join(cliPackageDir, 'package.json'), 'utf8')).version,
    );

    const team = unique('team');
    const file = join(home, 'portolan.yaml');
    writeFileSync(
      file,
      `apiVersion: portolan/v1\nentities:\n  - kind: team\n    id: ${team}\n    name: ${teamDoc(team).name}\n`,
    );
    const diff = portolan(['diff', '-f', relative(home, file)]);
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stdout, new RegExp(`\\+ create\\s+team/${team}`));
    const apply = portolan(['apply', '-f', file]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /Applied: 1 to create/);
    assert.equal(portolan(['diff', '-f', file]).code, 0, 'applied: nothing left to change');

    const resolved = portolan(['resolve', 'service.name=nobody-owns-this']);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.match(resolved.stdout, /ownership\.status = unowned/);
    const whoami = portolan(['whoami', '--output', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(JSON.parse(whoami.stdout).principal.clientId, state.clients.ci.clientId);

    const invalid = portolan(['apply', '-f', join(home, 'missing.yaml')]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /missing\.yaml: no such file or directory/);
  });
});
