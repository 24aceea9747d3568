/**
 * The static platform end to end through the CLI: namespace hosts (made by the local platform in a
 * separate state folder) written out as a hosts.yaml in the seeds' format, used as existing hosts.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDown, clusterUp, requireRoot, testStateDir, type TestCluster } from '../support/cluster.js';
import { cli, makeHome, type Home } from './setup-support.js';

const NODES = 'app-stat-nodes';
const EXP = 'app-static';
let home: Home;
let c: TestCluster;

function writeHosts(file: string, extraWorkers: Record<string, unknown> = {}): void {
  const group = (role: string): Record<string, unknown> =>
    Object.fromEntries(c.handle.hosts.filter((h) => h.roles.includes(role as never)).map((h) => [`srv-${h.name}`, { ansible_host: h.address }]));
  const doc = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: join(c.data.sshDir, 'id_ed25519'),
        ansible_ssh_common_args: `-o UserKnownHostsFile=${c.data.knownHosts} -o StrictHostKeyChecking=yes`,
        gr_shared_fs: true,
      },
      children: {
        control: { hosts: group('control') },
        broker: { hosts: group('broker') },
        worker: { hosts: { ...group('worker'), ...extraWorkers } },
      },
    },
  };
  writeFileSync(join(home.dir, file), yaml.dump(doc));
}

beforeAll(async () => {
  requireRoot();
  home = makeHome('gr-app-static-');
  c = await clusterUp(NODES, { roles: { control: 1, broker: 1, worker: 3 }, stateDir: join(home.dir, 'nodes-state') });
  writeHosts('hosts.yaml');
  // A worker at an address of the namespace subnet that nobody answers.
  const prefix = c.handle.hosts[0]!.address.split('.').slice(0, 3).join('.');
  writeHosts('hosts-ghost.yaml', { 'ghost-1': { ansible_host: `${prefix}.200` } });
  home.write(EXP, 'platform: {kind: static, static: {connect_timeout: 10}}\nroles: {control: 1, broker: 1, worker: 1}\nservices: []\n');
}, 300_000);

afterAll(async () => {
  if (home && existsSync(home.stateDir(EXP))) await cli(home, ['killjob', EXP]);
  if (c) await clusterDown(NODES, join(home.dir, 'nodes-state'));
  if (home) rmSync(home.dir, { recursive: true, force: true });
  rmSync(testStateDir(NODES), { recursive: true, force: true });
});

describe('setup on the static platform', () => {
  it('refuses an inventory with an unreachable host, naming it, and leaves nothing behind', async () => {
    const r = await cli(home, ['setup', EXP, '--inventory', 'hosts-ghost.yaml']);
    expect(r.exitCode, r.all).toBe(3);
    expect(r.stderr).toMatch(/\[platform\.static\.unreachable\] 1 of 6 hosts do not answer over SSH: ghost-1/);
    expect(existsSync(join(home.dir, '.greenrace'))).toBe(false);
  });

  it('sets up the hosts of hosts.yaml (--inventory, relative to the working folder) and records their metadata', async () => {
    const r = await cli(home, ['setup', EXP, '--inventory', 'hosts.yaml']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/app-static is set up in [\d.]+ s on the static platform/);
    const st = home.state(EXP);
    expect(st.phase).toBe('ready');
    expect(st.platform.hosts.map((h: { name: string }) => h.name).sort()).toEqual(c.handle.hosts.map((h) => `srv-${h.name}`).sort());
    const md = readdirSync(join(home.stateDir(EXP), 'metadata')).sort();
    expect(md).toEqual(c.handle.hosts.map((h) => `srv-${h.name}.json`).sort());
    const s = await cli(home, ['status', EXP, '--json']);
    expect(s.exitCode, s.all).toBe(0);
    const rep = JSON.parse(s.stdout);
    // The hostnames are the machines' own (the namespace hosts), not the inventory names.
    expect(rep.hosts.map((h: any) => [h.name, h.reachable, h.metadata.hostname]).sort()).toEqual(
      c.handle.hosts.map((h) => [`srv-${h.name}`, true, h.name]).sort(),
    );
  });

  it('killjob clears the state and leaves the existing hosts as they were', async () => {
    const r = await cli(home, ['killjob', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^app-static: released 5 static hosts, cleared the state/);
    expect(existsSync(home.stateDir(EXP))).toBe(false);
    for (const h of c.handle.hosts) expect(await c.ssh(h.name, 'hostname')).toBe(h.name);
  });

  it('killjob after the state folder is lost destroys the services still running on the existing hosts', async () => {
    const svc = 'app-static-svc';
    home.write(svc, 'platform: {kind: static, static: {inventory: hosts.yaml, connect_timeout: 10}}\nroles: {control: 1, broker: 0, worker: 1}\nservices: [node_exporter]\n');
    const listening = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const h of c.handle.hosts) if ((await c.ssh(h.name, "ss -ltnH 'sport = :9100'")).trim()) out.push(h.name);
      return out.sort();
    };
    const r = await cli(home, ['setup', svc]);
    expect(r.exitCode, r.all).toBe(0);
    expect(await listening()).toEqual(c.handle.hosts.map((h) => h.name).sort());
    rmSync(home.stateDir(svc), { recursive: true, force: true });
    const k = await cli(home, ['killjob', svc]);
    expect(k.exitCode, k.all).toBe(0);
    expect(k.stderr).toContain(`no state for ${svc}: looking for what it left`);
    expect(k.stdout).toMatch(new RegExp(`^${svc}: destroyed node_exporter`));
    expect(await listening()).toEqual([]);
    expect(existsSync(home.stateDir(svc))).toBe(false);
  });
});
