// setup / status / killjob parsed and run in process through main(): bad inputs give one clear
// message, the right exit code, and leave nothing behind.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

let home: string;
const saved = { home: process.env.GREENRACE_HOME, state: process.env.GREENRACE_STATE_DIR };

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'gr-app-cli-'));
  mkdirSync(join(home, 'experiments'));
  const files: Record<string, string> = {
    'app-ok.yaml': 'platform: {kind: local}\nroles: {control: 1, broker: 0, worker: 1}\nservices: []\n',
    'app-yamlerr.yaml': 'roles:\n  control: 1\n   worker: 2\n',
    'app-unknown.yaml': 'roles: {control: 1, workers: 2}\n',
    'app-type.yaml': 'roles: {control: 1, worker: three}\n',
    'app-static.yaml': 'platform: {kind: static}\nroles: {control: 1, broker: 0, worker: 1}\n',
  };
  for (const [f, t] of Object.entries(files)) writeFileSync(join(home, 'experiments', f), t);
  process.env.GREENRACE_HOME = home;
  delete process.env.GREENRACE_STATE_DIR;
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  if (saved.home === undefined) delete process.env.GREENRACE_HOME;
  else process.env.GREENRACE_HOME = saved.home;
  if (saved.state !== undefined) process.env.GREENRACE_STATE_DIR = saved.state;
});
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await main(['node', 'entrypoint', ...args]);
  vi.restoreAllMocks();
  process.exitCode = undefined;
  return { code, out, err };
}

/** Nothing but the experiment files: no .greenrace, no state, no logs. */
const nothingCreated = (): void => expect(readdirSync(home)).toEqual(['experiments']);

describe('setup: bad inputs', () => {
  it('--workers 0 is a usage error', async () => {
    const r = await run('setup', 'app-ok', '--workers', '0');
    expect(r.code).toBe(2);
    expect(r.err).toContain("option '--workers <n>' argument '0' is invalid. --workers must be between 1 and 1000 (got 0)");
    nothingCreated();
  });

  it('--workers two is a usage error', async () => {
    const r = await run('setup', 'app-ok', '--workers', 'two');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--workers must be a whole number (got "two")');
    nothingCreated();
  });

  it('an unknown experiment names the folders searched', async () => {
    const r = await run('setup', 'app-nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[config\.unknown_experiment\] unknown experiment "app-nope": no app-nope\.yaml in .*experiments/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    nothingCreated();
  });

  it('a YAML syntax error names file, line and column', async () => {
    const r = await run('setup', 'app-yamlerr');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[config\.yaml_syntax\] .*app-yamlerr\.yaml:3:\d+: YAML syntax error/);
    nothingCreated();
  });

  it('an unknown key names the key and the allowed ones', async () => {
    const r = await run('setup', 'app-unknown');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/app-unknown\.yaml: roles\.workers: unknown key "workers"/);
    expect(r.err).toContain('allowed: control, broker, worker');
    nothingCreated();
  });

  it('a wrong type names the key path', async () => {
    const r = await run('setup', 'app-type');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/app-type\.yaml: roles\.worker: /);
    nothingCreated();
  });

  it('a missing inventory file (static) is a usage error naming the file', async () => {
    const r = await run('setup', 'app-static', '--inventory', join(home, 'no-such-hosts.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/inventory file .*no-such-hosts\.yaml does not exist/);
    nothingCreated();
  });

  it('the static platform without any inventory says which key or flag to use', async () => {
    const r = await run('setup', 'app-ok', '--platform', 'static');
    expect(r.code).toBe(2);
    expect(r.err).toContain('platform.static.inventory');
    nothingCreated();
  });

  it('an unknown --platform lists the choices', async () => {
    const r = await run('setup', 'app-ok', '--platform', 'cloud');
    expect(r.code).toBe(2);
    expect(r.err).toContain("Allowed choices are local, static, g5k");
    nothingCreated();
  });

  it('a bad --set is a usage error', async () => {
    const r = await run('setup', 'app-ok', '--set', 'roles.worker');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--set roles.worker: expected key.path=value');
    nothingCreated();
  });
});

describe('setup --dry-run', () => {
  it('prints the plan, the inventory and the services, and creates nothing', async () => {
    const r = await run('setup', 'app-ok', '--dry-run', '--workers', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain('## platform');
    expect(r.out).toMatch(/platform local: 3 hosts/);
    expect(r.out).toContain('## inventory');
    expect(r.out).toMatch(/children:\n\s+control:\n\s+hosts:/);
    expect(r.out).toContain('gr_experiment: app-ok');
    expect(r.out).toContain('## services\n(none)');
    nothingCreated();
  });
});

describe('status and killjob without state', () => {
  it('status says the experiment is not set up and how to set it up', async () => {
    const r = await run('status', 'app-ok');
    expect(r.code).toBe(1);
    expect(r.err).toContain('experiment app-ok is not set up; run `entrypoint setup app-ok`');
    nothingCreated();
  });

  it('killjob has nothing to do and exits 0', async () => {
    const r = await run('killjob', 'app-ok');
    expect(r.code).toBe(0);
    expect(r.out).toBe('nothing to do: experiment app-ok is not set up\n');
    nothingCreated();
  });

  it('a name that is not an experiment name is refused before touching anything', async () => {
    const r = await run('killjob', 'Bad Name!');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not an experiment name');
  });
});

describe('help', () => {
  it('lists setup, status and killjob with their options', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    for (const c of ['setup', 'status', 'killjob']) expect(top.out).toMatch(new RegExp(`\\n  ${c} `));
    const s = await run('setup', '--help');
    for (const o of ['--workers <n>', '--platform <kind>', '--inventory <file>', '--set <key.path=value>', '--dry-run']) expect(s.out).toContain(o);
  });
});
