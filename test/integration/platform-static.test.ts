/**
 * The static platform against real SSH hosts: local namespace hosts written out as a hosts.yaml in
 * the seeds' format, plus hosts that do not answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentSchema } from '../../src/experiment/schema.js';
import { ConfigError, PlatformError } from '../../src/core/errors.js';
import { platformFor } from '../../src/platforms/index.js';
import type { Platform, ReserveRequest } from '../../src/platforms/platform.js';
import { clusterDown, clusterUp, requireRoot, testStateDir, type TestCluster } from '../support/cluster.js';

const NAME = 'pltstatic';
let c: TestCluster;
let platform: Platform;
const dir = mkdtempSync(join(tmpdir(), 'plt-static-'));
const expFile = join(dir, 'experiments', 'pltstatic.yaml');

/** hosts.yaml for the namespace hosts, as a user would write it (plus extra hosts per group). */
function writeInventory(extra: Record<string, Record<string, Record<string, unknown>>> = {}): string {
  const hostsOf = (role: string): Record<string, Record<string, unknown>> => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const h of c.handle.hosts.filter((x) => x.roles.includes(role as never))) {
      out[`ns-${h.name}`] = { ansible_host: h.address, kubernetes_role: role === 'control' ? 'control_plane' : role === 'worker' ? 'node' : role };
    }
    return { ...out, ...(extra[role] ?? {}) };
  };
  const doc = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: join(c.data.sshDir, 'id_ed25519'),
        ansible_ssh_common_args: `-o UserKnownHostsFile=${c.data.knownHosts} -o StrictHostKeyChecking=yes`,
        gr_shared_fs: true,
      },
      children: {
        broker: { hosts: hostsOf('broker') },
        control: { hosts: hostsOf('control') },
        worker: { hosts: hostsOf('worker') },
      },
    },
  };
  const file = join(dir, 'experiments', 'hosts.yaml');
  writeFileSync(file, yaml.dump(doc));
  return file;
}

function request(roles: { control: number; broker: number; worker: number }, inventory = 'hosts.yaml'): ReserveRequest {
  const experiment = experimentSchema.parse({ name: NAME, platform: { kind: 'static', static: { inventory, connect_timeout: 5 } }, roles });
  return { experiment, roles: experiment.roles, stateDir: join(dir, 'state'), experimentFile: expFile };
}

beforeAll(async () => {
  requireRoot();
  await clusterDown(NAME);
  rmSync(testStateDir(NAME), { recursive: true, force: true });
  c = await clusterUp(NAME, { roles: { control: 1, broker: 1, worker: 2 } });
  platform = await platformFor('static');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'experiments'), { recursive: true });
});

afterAll(async () => {
  await c?.down();
  rmSync(dir, { recursive: true, force: true });
  rmSync(testStateDir(NAME), { recursive: true, force: true });
});

describe('static platform over namespace hosts', () => {
  it('takes the hosts of hosts.yaml (found beside the experiment file) with their roles, all reachable', async () => {
    writeInventory();
    const progress: string[] = [];
    const handle = await platform.reserve({ ...request({ control: 1, broker: 1, worker: 1 }), progress: (l) => progress.push(l) });
    expect(handle.kind).toBe('static');
    expect(handle.hosts.map((h) => `${h.name}=${h.address}:${h.roles.join(',')}`).sort()).toEqual(
      c.handle.hosts.map((h) => `ns-${h.name}=${h.address}:${h.roles.join(',')}`).sort(),
    );
    expect(handle.hosts.find((h) => h.name === 'ns-control-1')!.vars).toMatchObject({ kubernetes_role: 'control_plane' });
    expect(handle.sharedFilesystem).toBe(true);
    expect(new Set(Object.values(handle.dataDirs)).size).toBe(4);
    expect(progress.join('\n')).toContain('4 hosts answer over SSH');
    const st = await platform.status(handle);
    expect(st.every((s) => s.reachable)).toBe(true);
    const lines: string[] = [];
    await platform.release(join(dir, 'state'), handle, (l) => lines.push(l));
    expect(lines[0]).toMatch(/nothing to release; 4 hosts .* stay as they are/);
    // release did not touch the hosts
    expect(await c.ssh('worker-1', 'hostname')).toBe('worker-1');
  });

  it('plans without connecting: hosts, users, ports and roles', async () => {
    writeInventory();
    const plan = await platform.plan(request({ control: 1, broker: 1, worker: 2 }));
    expect(plan.lines[0]).toMatch(/4 existing hosts from .*hosts\.yaml/);
    expect(plan.lines.some((l) => l.includes(`root@${c.handle.hosts[0]!.address}:22`))).toBe(true);
  });

  it('reaches a host only known to a jump host (the `jump` var, ProxyJump)', async () => {
    // "worker-1" resolves only inside the namespaces (their /etc/hosts), so this works through control-1 alone.
    const hostKey = (await import('node:fs')).readFileSync(join(c.data.sshDir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const names = join(dir, 'known_names');
    writeFileSync(names, `worker-1 ${hostKey}\n`);
    const cfg = join(dir, 'ssh_config');
    writeFileSync(
      cfg,
      `Host *\n  IdentityFile ${join(c.data.sshDir, 'id_ed25519')}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${c.data.knownHosts} ${names}\n  StrictHostKeyChecking yes\n`,
    );
    const control = c.handle.hosts.find((h) => h.name === 'control-1')!;
    const file = join(dir, 'experiments', 'jump.yaml');
    writeFileSync(
      file,
      yaml.dump({
        all: {
          vars: { ansible_user: 'root', ansible_ssh_common_args: `-F ${cfg}` },
          children: {
            control: { hosts: { 'via-direct': { ansible_host: control.address } } },
            worker: { hosts: { 'via-jump': { ansible_host: 'worker-1', jump: `root@${control.address}` } } },
          },
        },
      }),
    );
    const handle = await platform.reserve(request({ control: 1, broker: 0, worker: 1 }, 'jump.yaml'));
    expect(handle.hosts.find((h) => h.name === 'via-jump')!.vars!.ansible_ssh_common_args).toBe(`-F ${cfg} -o ProxyJump=root@${control.address}`);
    const st = await platform.status(handle);
    expect(st.map((s) => [s.host, s.reachable])).toEqual([
      ['via-direct', true],
      ['via-jump', true],
    ]);
  });

  it('names every unreachable host in one error', async () => {
    writeInventory({
      worker: {
        'ghost-refused': { ansible_host: c.handle.controllerAddress!, ansible_port: 1 },
        'ghost-silent': { ansible_host: `${c.data.prefix}.200` },
      },
    });
    const err = await platform.reserve(request({ control: 1, broker: 1, worker: 2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    const pe = err as PlatformError;
    expect(pe.code).toBe('platform.static.unreachable');
    expect(pe.hosts.sort()).toEqual(['ghost-refused', 'ghost-silent']);
    expect(pe.message).toMatch(/2 of 6 hosts do not answer over SSH: ghost-refused, ghost-silent/);
    expect(pe.details.join('\n')).toMatch(/ghost-refused .*refused/i);
  });

  it('says which role has too few hosts', async () => {
    writeInventory();
    const err = await platform.reserve(request({ control: 1, broker: 2, worker: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/too few hosts in role broker \(broker: 1 host\(s\), the experiment needs 2\)/);
  });

  it('names a missing inventory file', async () => {
    const err = await platform.reserve(request({ control: 1, broker: 1, worker: 1 }, 'nope.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/inventory file "nope\.yaml" not found/);
  });
});
