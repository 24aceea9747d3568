import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/core/errors.js';
import { checkRoleMinimums, loadInventory, parseInventory, resolveInventoryPath } from '../../../../src/platforms/static/inventory.js';
import { rmSync } from 'node:fs';

const FIXTURE = new URL('../../../fixtures/platforms/seed-hosts.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'plt-inv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The ConfigError a function throws (fails the test when it does not throw one). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('static inventory: the seeds hosts.yaml format', () => {
  it('reads the seed inventory: hosts by role, kubernetes_role kept, names as addresses', () => {
    const inv = loadInventory(FIXTURE, { defaultUser: 'alice' });
    const byRole = (r: string) => inv.hosts.filter((h) => h.roles.includes(r as never)).map((h) => h.name);
    expect(byRole('broker')).toEqual(['paravance-68.rennes.grid5000.fr', 'paravance-8.rennes.grid5000.fr', 'paravance-9.rennes.grid5000.fr']);
    expect(byRole('control')).toEqual(['paravance-14.rennes.grid5000.fr']);
    expect(byRole('worker')).toHaveLength(3);
    const c = inv.hosts.find((h) => h.name === 'paravance-14.rennes.grid5000.fr')!;
    expect(c).toMatchObject({ address: 'paravance-14.rennes.grid5000.fr', port: 22, user: 'alice', vars: { kubernetes_role: 'control_plane' } });
    expect(inv.sharedFilesystem).toBe(false);
  });

  it('applies all.vars, then group vars, then host vars; resolves the key next to the inventory', () => {
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(join(dir, 'keys', 'id'), 'not a real key');
    const inv = parseInventory(
      `all:
  vars: { ansible_user: ops, gr_shared_fs: true, gr_controller_address: 10.0.0.1 }
  children:
    control:
      hosts:
        c1: { ansible_host: 10.0.0.10, ansible_port: 2222, ansible_ssh_private_key_file: keys/id }
    worker:
      vars: { ansible_user: runner }
      hosts:
        w1: { ansible_host: 10.0.0.20, jump: gw@bastion.example.org:2200, gr_data_dir: /data/w1 }
        w2: { ansible_host: 10.0.0.21, ansible_ssh_common_args: "-o ProxyJump=gw@bastion" }
`,
      join(dir, 'inv.yaml'),
    );
    const [c1, w1, w2] = inv.hosts;
    expect(c1).toMatchObject({ name: 'c1', address: '10.0.0.10', port: 2222, user: 'ops', keyFile: join(dir, 'keys', 'id'), roles: ['control'] });
    expect(w1).toMatchObject({ user: 'runner', vars: { ansible_ssh_common_args: '-o ProxyJump=gw@bastion.example.org:2200' } });
    expect(w2!.vars!.ansible_ssh_common_args).toBe('-o ProxyJump=gw@bastion');
    expect(inv.sharedFilesystem).toBe(true);
    expect(inv.controllerAddress).toBe('10.0.0.1');
    expect(inv.dataDirs).toEqual({ w1: '/data/w1' });
  });

  it('machine: the host key when given (group vars too), else the address; not passed to Ansible', () => {
    const inv = parseInventory(
      `all:
  children:
    broker:
      vars: { machine: rack1-box7 }
      hosts:
        vm-a: { ansible_host: 10.0.0.21 }
        vm-b: { ansible_host: 10.0.0.22 }
    worker:
      hosts:
        w1: { ansible_host: 10.0.0.31, machine: rack2-box1 }
        w2: { ansible_host: 10.0.0.32 }
`,
      join(dir, 'machines.yaml'),
      { defaultUser: 'ops' },
    );
    expect(inv.hosts.map((h) => [h.name, h.machine])).toEqual([
      ['vm-a', 'rack1-box7'],
      ['vm-b', 'rack1-box7'],
      ['w1', 'rack2-box1'],
      ['w2', '10.0.0.32'],
    ]);
    expect(inv.hosts.some((h) => h.vars && 'machine' in h.vars)).toBe(false);
    const e = configError(() => parseInventory('all:\n  children:\n    worker:\n      hosts:\n        w1: { machine: "" }\n', join(dir, 'm2.yaml')));
    expect(e.message).toContain('all.children.worker.hosts.w1.machine: expected a non-empty string');
  });

  it('gives a host listed in two groups both roles', () => {
    const inv = parseInventory('all:\n  children:\n    control: { hosts: { one: } }\n    worker: { hosts: { one: , two: } }\n', '/x/inv.yaml', { defaultUser: 'u' });
    expect(inv.hosts.map((h) => [h.name, h.roles])).toEqual([
      ['one', ['control', 'worker']],
      ['two', ['worker']],
    ]);
  });
});

describe('static inventory: every error names the file and the key', () => {
  const cases: Array<[string, string, RegExp, string | undefined]> = [
    ['YAML syntax', 'all:\n  children:\n    worker: [unclosed\n', /bad\.yaml:\d+:\d+: YAML syntax error/, undefined],
    ['not a mapping', '- a\n- b\n', /\(top level\): expected a mapping with the key "all"/, '(top level)'],
    ['unknown top key', 'hosts: {}\n', /hosts: unknown top-level key; allowed: all/, 'hosts'],
    ['no children', 'all:\n  vars: {}\n', /all\.children: expected a mapping of role groups/, 'all.children'],
    ['ungrouped hosts', 'all:\n  hosts: { a: }\n', /all\.hosts: hosts must be placed in a role group/, 'all.hosts'],
    ['unknown group', 'all:\n  children:\n    kafka: { hosts: { a: } }\n', /all\.children\.kafka: unknown group "kafka"; allowed: control, broker, worker/, 'all.children.kafka'],
    ['unknown group key', 'all:\n  children:\n    worker: { host: { a: } }\n', /all\.children\.worker\.host: unknown key; allowed: hosts, vars/, 'all.children.worker.host'],
    ['hosts as a list', 'all:\n  children:\n    worker: { hosts: [a, b] }\n', /all\.children\.worker\.hosts: expected a mapping of host names/, 'all.children.worker.hosts'],
    ['bad port', 'all:\n  children:\n    worker: { hosts: { w1: { ansible_port: ssh } } }\n', /all\.children\.worker\.hosts\.w1\.ansible_port: expected a port number 1-65535, got "ssh"/, 'all.children.worker.hosts.w1.ansible_port'],
    ['port out of range', 'all:\n  children:\n    worker: { hosts: { w1: { ansible_port: 70000 } } }\n', /ansible_port: expected a port number/, 'all.children.worker.hosts.w1.ansible_port'],
    ['nested var', 'all:\n  children:\n    worker: { hosts: { w1: { ansible_host: [1, 2] } } }\n', /w1\.ansible_host: expected a string, number or boolean/, 'all.children.worker.hosts.w1.ansible_host'],
    ['empty user', 'all:\n  children:\n    worker: { hosts: { w1: { ansible_user: "" } } }\n', /w1\.ansible_user: expected a non-empty string/, 'all.children.worker.hosts.w1.ansible_user'],
    ['bad jump', 'all:\n  children:\n    worker: { hosts: { w1: { jump: "a b" } } }\n', /w1\.jump: "a b" is not a jump host/, 'all.children.worker.hosts.w1.jump'],
    ['missing key', 'all:\n  children:\n    worker: { hosts: { w1: { ansible_ssh_private_key_file: nope/id } } }\n', /w1\.ansible_ssh_private_key_file: key file .*nope\/id does not exist/, 'all.children.worker.hosts.w1.ansible_ssh_private_key_file'],
    ['no hosts at all', 'all:\n  children:\n    worker: { hosts: }\n', /all\.children: no hosts in any group/, 'all.children'],
    ['bad shared fs', 'all:\n  vars: { gr_shared_fs: "yes" }\n  children:\n    worker: { hosts: { a: } }\n', /all\.vars\.gr_shared_fs: expected true or false/, 'all.vars.gr_shared_fs'],
  ];
  for (const [what, text, msg, path] of cases) {
    it(what, () => {
      const f = fileWith('bad.yaml', text);
      const e = configError(() => loadInventory(f, { defaultUser: 'u' }));
      expect(e.message).toMatch(msg);
      expect(e.message).toContain('bad.yaml');
      expect(e.file).toBe(f);
      if (path) expect(e.path).toBe(path);
      expect(e.exitCode).toBe(2);
    });
  }
});

describe('static inventory: where the file is', () => {
  it('finds platform.static.inventory next to the experiment file first, then in the working directory', () => {
    const expDir = join(dir, 'exps');
    mkdirSync(expDir, { recursive: true });
    writeFileSync(join(expDir, 'hosts.yaml'), 'all: {}\n');
    expect(resolveInventoryPath({ fromExperiment: 'hosts.yaml', experimentFile: join(expDir, 'e.yaml') })).toBe(join(expDir, 'hosts.yaml'));
    // not beside the experiment: falls back to the working directory (the fixture path is relative to cwd)
    const rel = 'test/fixtures/platforms/seed-hosts.yaml';
    expect(resolveInventoryPath({ fromExperiment: rel, experimentFile: join(expDir, 'e.yaml') })).toBe(FIXTURE);
  });

  it('names the file and both places it looked when it is missing', () => {
    const e = configError(() => resolveInventoryPath({ fromExperiment: 'nothere.yaml', experimentFile: join(dir, 'exps', 'e.yaml') }));
    expect(e.code).toBe('platform.static.inventory_missing');
    expect(e.message).toMatch(/platform\.static\.inventory: inventory file "nothere\.yaml" not found \(looked for .*exps\/nothere\.yaml and .*nothere\.yaml\)/);
    expect(e.path).toBe('platform.static.inventory');
  });

  it('names a missing --inventory file', () => {
    const e = configError(() => resolveInventoryPath({ override: join(dir, 'missing.yaml'), fromExperiment: 'hosts.yaml' }));
    expect(e.message).toMatch(/inventory file .*missing\.yaml does not exist \(--inventory\)/);
  });

  it('asks for an inventory when none is configured', () => {
    const e = configError(() => resolveInventoryPath({}));
    expect(e.code).toBe('platform.static.no_inventory');
    expect(e.message).toContain('--inventory FILE');
  });
});

describe('static inventory: role sizes are minimums', () => {
  const inv = loadInventory(FIXTURE, { defaultUser: 'u' });
  it('accepts an inventory with at least the hosts each role needs', () => {
    expect(() => checkRoleMinimums(inv, { control: 1, broker: 3, worker: 2 })).not.toThrow();
  });
  it('names the role that has too few hosts', () => {
    const e = configError(() => checkRoleMinimums(inv, { control: 1, broker: 3, worker: 5 }));
    expect(e.code).toBe('platform.static.too_few_hosts');
    expect(e.message).toMatch(/too few hosts in role worker \(worker: 3 host\(s\), the experiment needs 5\)/);
    expect(e.path).toBe('all.children.worker.hosts');
  });
});
