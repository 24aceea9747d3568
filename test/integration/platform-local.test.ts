/**
 * The local platform for real (root): namespaces, bridge, sshd, SSH with the generated key.
 * Experiment names start with `plt` (this area's prefix).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../src/core/errors.js';
import { platformFor } from '../../src/platforms/index.js';
import type { Platform } from '../../src/platforms/platform.js';
import { clusterDown, clusterUp, experimentFor, leftovers, requireRoot, testStateDir, type TestCluster } from '../support/cluster.js';

const NAME = 'pltlocal';
const SECOND = 'pltlocal2';
let c: TestCluster;
let local: Platform;
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');

beforeAll(async () => {
  requireRoot();
  local = await platformFor('local');
  // a previous crashed run of this file must not leak into this one
  for (const n of [NAME, SECOND, 'pltclash']) {
    await clusterDown(n);
    rmSync(testStateDir(n), { recursive: true, force: true });
  }
  c = await clusterUp(NAME, { roles: { control: 1, broker: 1, worker: 3 } });
});

afterAll(async () => {
  for (const n of [NAME, SECOND, 'pltclash']) {
    await clusterDown(n).catch(() => {});
    rmSync(testStateDir(n), { recursive: true, force: true });
  }
  rmSync(testStateDir('pltnonroot'), { recursive: true, force: true });
});

describe('local platform: 1 control + 1 broker + 3 workers', () => {
  it('hands out 5 hosts named by role, with addresses on the bridge subnet and per-host data dirs', () => {
    expect(c.handle.hosts.map((h) => `${h.name}:${h.roles.join(',')}`)).toEqual([
      'control-1:control',
      'broker-1:broker',
      'worker-1:worker',
      'worker-2:worker',
      'worker-3:worker',
    ]);
    const prefix = c.data.prefix;
    expect(c.handle.controllerAddress).toBe(`${prefix}.1`);
    for (const h of c.handle.hosts) {
      expect(h.address.startsWith(prefix + '.')).toBe(true);
      expect(c.handle.dataDirs[h.name]).toBe(join(c.stateDir, 'hosts', h.name));
      expect(existsSync(c.handle.dataDirs[h.name]!)).toBe(true);
    }
    expect(c.handle.sharedFilesystem).toBe(true);
  });

  it('answers SSH on every host with its own hostname, address and namespace', async () => {
    const seen = await Promise.all(
      c.handle.hosts.map(async (h) => {
        const out = await c.ssh(h.name, 'hostname; ip -4 -o addr show dev eth0 | awk "{print \\$4}"; readlink /proc/self/ns/net');
        const [hostname, cidr, netns] = out.split('\n');
        return { host: h.name, hostname, address: cidr?.split('/')[0], expected: h.address, netns };
      }),
    );
    for (const s of seen) {
      expect(s.hostname).toBe(s.host);
      expect(s.address).toBe(s.expected);
    }
    expect(new Set(seen.map((s) => s.netns)).size).toBe(5);
  });

  it('lets hosts resolve each other by name, and routes nothing out of the bridge', async () => {
    const out = await c.ssh('worker-1', 'getent hosts broker-1; ip route show default; cat /etc/resolv.conf');
    expect(out).toContain(`${c.handle.hosts[1]!.address}`);
    expect(out).toContain(`default via ${c.data.prefix}.254 dev eth0`);
    expect(out).toContain('nameserver 127.0.0.1');
    const gw = await execa('ip', ['-4', 'neigh', 'show', `${c.data.prefix}.254`]);
    expect(gw.stdout).not.toMatch(/lladdr/); // nobody owns the gateway address
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(ipForwardBefore);
  });

  it('reports every host reachable in status', async () => {
    const st = await local.status(c.handle);
    expect(st.map((s) => [s.host, s.reachable])).toEqual(c.handle.hosts.map((h) => [h.name, true]));
  });

  it('converges on a second reserve: same hosts, and only a dead sshd is restarted', async () => {
    const ns = c.data.slots.find((s) => s.name === 'worker-2')!.ns;
    const pids = (await execa('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean);
    await execa('kill', pids);
    const lines: string[] = [];
    const again = await clusterUp(NAME, { roles: { control: 1, broker: 1, worker: 3 }, progress: (l) => lines.push(l) }, c.handle);
    expect(again.handle).toEqual(c.handle);
    expect(lines.join('\n')).toContain('started sshd on worker-2');
    expect(lines.join('\n')).not.toMatch(/started sshd on .*worker-1/);
    expect(await again.ssh('worker-2', 'hostname')).toBe('worker-2');
    const nsList = (await execa('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(c.data.tag + '-'));
    expect(nsList).toHaveLength(5);
  });

  it('adds and removes only worker hosts when the worker count changes', async () => {
    const grown = await clusterUp(NAME, { roles: { control: 1, broker: 1, worker: 4 } }, c.handle);
    expect(grown.handle.hosts.slice(0, 5)).toEqual(c.handle.hosts);
    expect(await grown.ssh('worker-4', 'hostname')).toBe('worker-4');
    const shrunk = await clusterUp(NAME, { roles: { control: 1, broker: 1, worker: 3 } }, grown.handle);
    expect(shrunk.handle.hosts).toEqual(c.handle.hosts);
    expect((await leftovers(c.data.tag, c.stateDir)).namespaces.filter((n) => n.endsWith('worker-4'))).toEqual([]);
  });

  it('refuses to change the control or broker count of a running cluster, telling to killjob first', async () => {
    const err = await clusterUp(NAME, { roles: { control: 1, broker: 2, worker: 3 } }, c.handle).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'platform.local.roles_changed' });
    expect((err as PlatformError).hint).toContain(`killjob ${NAME}`);
  });

  it('runs a second experiment at the same time on its own bridge, subnet and namespaces', async () => {
    const d = await clusterUp(SECOND, { roles: { control: 1, broker: 0, worker: 1 } });
    try {
      expect(d.data.tag).not.toBe(c.data.tag);
      expect(d.data.bridge).not.toBe(c.data.bridge);
      expect(d.data.prefix).not.toBe(c.data.prefix);
      expect(await d.ssh('worker-1', 'hostname')).toBe('worker-1');
      expect(await c.ssh('worker-1', 'hostname')).toBe('worker-1');
      // different experiments' hosts cannot reach each other: separate bridges, no route between them
      const other = c.handle.hosts.find((h) => h.name === 'worker-1')!.address;
      const reach = await d.ssh('worker-1', `timeout 5 bash -c '</dev/tcp/${other}/22' && echo reached || echo unreachable`);
      expect(reach).toBe('unreachable');
    } finally {
      await d.down();
    }
    expect(await leftovers(d.data.tag, d.stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
    expect((await local.status(c.handle)).every((s) => s.reachable)).toBe(true);
  });

  it('as a normal user: one clear error, exit non-zero, nothing created', async () => {
    const stateDir = join(testStateDir('pltnonroot'), 'state');
    const ROOT = new URL('../..', import.meta.url).pathname;
    const r = await execa(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', 'HOME=/tmp', process.execPath, '--import', 'tsx', 'test/support/cluster.ts', 'up', 'pltnonroot', '--state', stateDir],
      { cwd: ROOT, reject: false },
    );
    expect(r.exitCode).toBe(3);
    expect(r.stderr.trim()).toBe(
      'error platform.local.not_root: the local platform needs root to create hosts (network namespaces, a bridge and sshd); run as root, or use platform.kind: static',
    );
    expect(existsSync(stateDir)).toBe(false);
  });

  it('refuses a platform.local.subnet another experiment is using, creating nothing', async () => {
    const e = experimentFor('pltclash', { subnet: c.data.subnet });
    const err = await local.reserve({ experiment: e, roles: e.roles, stateDir: testStateDir('pltclash') }).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'platform.local.subnet_in_use' });
    expect((err as Error).message).toContain(c.data.subnet);
    expect(existsSync(join(testStateDir('pltclash'), 'local', 'intent.json'))).toBe(false);
  });

  it('releases everything: no namespace, link, process, /etc/netns entry or control socket left; twice is fine', async () => {
    // an Ansible-like control master under <stateDir>/cp that must be stopped
    const w1 = c.handle.hosts.find((h) => h.name === 'worker-1')!;
    await execa('mkdir', ['-p', join(c.stateDir, 'cp')]);
    await execa('ssh', [
      '-o', 'ControlMaster=auto', '-o', 'ControlPersist=60s', '-o', `ControlPath=${join(c.stateDir, 'cp')}/%C`,
      '-F', '/dev/null', '-i', join(c.data.sshDir, 'id_ed25519'), '-o', `UserKnownHostsFile=${c.data.knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${w1.address}`, 'true',
    ]);
    const before = await leftovers(c.data.tag, c.stateDir);
    expect(before.controlSockets).toHaveLength(1);
    expect(before.processes.length).toBeGreaterThanOrEqual(6); // 5 sshd + the control master

    const lines: string[] = [];
    await local.release(c.stateDir, c.handle, (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(/released 5 namespaces/);
    expect(await leftovers(c.data.tag, c.stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
    expect(existsSync(join(c.stateDir, 'local', 'intent.json'))).toBe(false);

    const again: string[] = [];
    await local.release(c.stateDir, c.handle, (l) => again.push(l));
    expect(again).toEqual(['local: nothing to release']);
  });
});
