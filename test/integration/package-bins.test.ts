/**
 * Every bin of package.json from a fresh install, as a user gets them: `npm pack` (which builds the
 * package: `prepare`), the tarball installed into an empty project, then each bin run through `npx`
 * with installing from the registry forbidden (`--no`, offline), so a bin the package does not ship
 * fails instead of being fetched. `npx killjob quickstart` is the command the README gives.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
const tmp = mkdtempSync(join(tmpdir(), 'gr-bins-'));
const app = join(tmp, 'app');
const home = join(tmp, 'home');

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 240_000 });
}

/** `npx --no <bin> …` in the installed project, offline: only what the install put there runs. */
const npx = (bin: string, args: string[]): SpawnSyncReturns<string> =>
  run('npx', ['--no', '--', bin, ...args], app, { GREENRACE_HOME: home, npm_config_offline: 'true', npm_config_update_notifier: 'false' });

beforeAll(() => {
  mkdirSync(app, { recursive: true });
  mkdirSync(home, { recursive: true });
  const packed = run('npm', ['pack', '--pack-destination', tmp, '--loglevel=error'], ROOT);
  expect(packed.status, packed.stderr).toBe(0);
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  expect(tgz).toBeDefined();
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'gr-bins-user', version: '1.0.0', private: true }) + '\n');
  const installed = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(tmp, tgz!)], app);
  expect(installed.status, installed.stderr).toBe(0);
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the bins of package.json, from a fresh install', () => {
  it('package.json has bins, each shipped in the tarball', () => {
    expect(Object.keys(pkg.bin).sort()).toEqual(['entrypoint', 'killjob']);
  });

  for (const bin of Object.keys(pkg.bin)) {
    it(`npx ${bin} --help runs the installed ${bin}`, () => {
      const r = npx(bin, ['--help']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: ${bin} `, 'm'));
    });
  }

  it('npx killjob quickstart: the CLI\'s killjob (nothing set up here: says so, exit 0)', () => {
    const r = npx('killjob', ['quickstart']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('nothing to do: experiment quickstart is not set up\n');
  });

  it('killjob without an experiment is a usage error (exit 2), as `entrypoint killjob` is', () => {
    const a = npx('killjob', []);
    const b = npx('entrypoint', ['killjob']);
    expect(a.status).toBe(2);
    expect(b.status).toBe(2);
    expect(a.stderr).toContain("error: missing required argument 'exp'");
    expect(b.stderr).toContain("error: missing required argument 'exp'");
  });

  it('the installed entrypoint finds its own assets (the quickstart experiment)', () => {
    const r = npx('entrypoint', ['config', 'quickstart', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }).name).toBe('quickstart');
  });
});
