/**
 * The published CLI as a user installs it: `npm pack` of packages/cli, installed
 * offline into an empty directory, then its install size and the wall time of
 * `portolan --version` and of `portolan schema`, which loads the schemas every
 * document command needs (hyperfine when installed, else the median of --runs
 * spawns), side by side with a bare `node -e 0` and the repository's
 * `bin/portolan.js` (TypeScript through tsx), in one run.
 *
 *   npm run bench:cli [-- --runs 30]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliPackageDir } from '#cli/bundle';
import { projectRoot } from '#infra/constructs/portolan-function';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const outDir = join(projectRoot, 'bench', 'results', 'cli');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const du = (path: string): number => {
  const stat = lstatSync(path);
  return stat.isDirectory()
    ? readdirSync(path).reduce((sum, name) => sum + du(join(path, name)), 0)
    : stat.size;
};

const work = mkdtempSync(join(tmpdir(), 'portolan-bench-cli-'));
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: cliPackageDir,
    encoding: 'utf8',
  }),
) as { filename: string; size: number; unpackedSize: number }[];
if (!packed) throw new Error('npm pack produced nothing');
const home = join(work, 'user');
mkdirSync(home);
execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], {
  cwd: home,
  stdio: 'ignore',
});
const installed = du(join(home, 'node_modules'));

const commands = {
  'node -e 0 (baseline)': `${process.execPath} -e 0`,
  'portolan --version (installed package)': `${join(home, 'node_modules', '.bin', 'portolan')} --version`,
  'portolan schema (installed; loads the schemas)': `${join(home, 'node_modules', '.bin', 'portolan')} schema`,
  'bin/portolan.js --version (repository, tsx)': `${process.execPath} ${join(projectRoot, 'bin', 'portolan.js')} --version`,
};

function medianMs(command: string): number {
  const [file, ...args] = command.split(' ');
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const started = process.hrtime.bigint();
    spawnSync(file as string, args, { stdio: 'ignore' });
    if (i >= 3) times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** Milliseconds: wall-clock median (and mean, deviation), and CPU time in user mode (mean) when hyperfine ran. */
let results: Record<string, { median: number; mean?: number; stddev?: number; user?: number }>;
const hyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
if (hyperfine.status === 0) {
  const json = join(outDir, 'hyperfine.json');
  execFileSync(
    'hyperfine',
    ['--warmup', '3', '--runs', String(runs), '-N', '--export-json', json, ...Object.values(commands)],
    { stdio: 'inherit' },
  );
  const { results: measured } = (await import(json, { with: { type: 'json' } })).default as {
    results: { median: number; mean: number; stddev: number; user: number }[];
  };
  results = Object.fromEntries(
    Object.keys(commands).map((name, i) => {
      const r = measured[i] as { median: number; mean: number; stddev: number; user: number };
      return [
        name,
        { median: r.median * 1000, mean: r.mean * 1000, stddev: r.stddev * 1000, user: r.user * 1000 },
      ];
    }),
  );
} else {
  results = Object.fromEntries(
    Object.entries(commands).map(([name, command]) => [name, { median: medianMs(command) }]),
  );
}

const summary = {
  loadAverage: loadavg(),
  tool: hyperfine.status === 0 ? hyperfine.stdout.trim() : `spawnSync median of ${runs}`,
  node: process.version,
  tarballBytes: packed.size,
  unpackedBytes: packed.unpackedSize,
  installedBytes: installed,
  startMs: results,
};
writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(
  `\nload average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )}; package: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(installed / 1024).toFixed(0)} KiB installed`,
);
for (const [name, r] of Object.entries(results))
  console.log(
    `${name.padEnd(46)} median ${r.median.toFixed(1)} ms${r.stddev !== undefined ? ` (±${r.stddev.toFixed(1)})` : ''}${r.user !== undefined ? `, user CPU ${r.user.toFixed(1)} ms` : ''}`,
  );
const [baseline, bundled, , source] = Object.values(results).map((r) => r.median) as number[] as [
  number,
  number,
  number,
  number,
];
console.log(
  `installed package: ${(bundled - baseline).toFixed(1)} ms over bare node; repository (tsx) ${(source / bundled).toFixed(1)}× slower`,
);
rmSync(work, { recursive: true, force: true });
