/**
 * setup / status / re-run / killjob on the local platform, through the CLI, as a user runs them:
 * 1 control + 1 broker + 3 workers, no services; facts from all 5 hosts; nothing left afterwards.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPathDir } from '../../src/ansible/config.js';
import { leftovers, requireRoot } from '../support/cluster.js';
import { cli, makeHome, type Home } from './setup-support.js';

const EXP = 'app-int';
let home: Home;
let tag: string | undefined;
let firstHosts: Array<{ name: string; address: string; roles: string[] }> = [];

beforeAll(() => {
  requireRoot();
  home = makeHome('gr-app-int-');
  home.write(EXP, 'description: app layer integration\nplatform: {kind: local}\nroles: {control: 1, broker: 1, worker: 1}\nservices: [node_exporter]\n');
});

afterAll(async () => {
  if (home && existsSync(home.stateDir(EXP))) await cli(home, ['killjob', EXP]);
  if (home) rmSync(home.dir, { recursive: true, force: true });
});

describe('setup → status → setup again → killjob on the local platform', () => {
  it('sets up 5 hosts (--workers 3, --set services=[]) and records metadata from each', async () => {
    const r = await cli(home, ['setup', EXP, '--workers', '3', '--set', 'services=[]']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^app-int is set up in [\d.]+ s on the local platform\n/);
    expect(r.stderr).toContain('play: Wait for the hosts and record what they are  [all]');
    expect(r.stderr).toMatch(/✓ Gather facts \([\d.]+s\) {2}ok: 5/);
    const st = home.state(EXP);
    expect(st.phase).toBe('ready');
    expect(st.services).toEqual([]);
    firstHosts = st.platform.hosts;
    tag = st.platform.data.tag;
    expect(firstHosts.map((h) => h.roles[0]).sort()).toEqual(['broker', 'control', 'worker', 'worker', 'worker']);
    const md = readdirSync(join(home.stateDir(EXP), 'metadata')).map((f) => JSON.parse(readFileSync(join(home.stateDir(EXP), 'metadata', f), 'utf8')));
    expect(md).toHaveLength(5);
    // Every host is its own machine as Ansible sees it: distinct hostnames and addresses.
    expect(new Set(md.map((m) => m.hostname)).size).toBe(5);
    expect(new Set(md.map((m) => m.default_ipv4)).size).toBe(5);
    for (const m of md) {
      expect(m.hostname).toBe(m.name);
      expect(m.default_ipv4).toBe(firstHosts.find((h) => h.name === m.name)!.address);
      expect(m.cpu_cores).toBeGreaterThan(0);
      expect(m.memory_mb).toBeGreaterThan(0);
      expect(m.kernel).not.toBe('');
      expect(m.os).toMatch(/Debian/);
      expect(m.interfaces.some((i: { name: string; ipv4: string }) => i.name === 'eth0' && i.ipv4 === m.default_ipv4)).toBe(true);
    }
  });

  it('status shows every host reachable with its metadata', async () => {
    const r = await cli(home, ['status', EXP, '--json']);
    expect(r.exitCode, r.all).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.phase).toBe('ready');
    expect(s.hosts).toHaveLength(5);
    for (const h of s.hosts) {
      expect(h.reachable).toBe(true);
      expect(h.metadata.hostname).toBe(h.name);
    }
    const text = await cli(home, ['status', EXP]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/app-int: ready on the local platform/);
    expect(text.stdout.match(/ yes /g)).toHaveLength(5);
  });

  it('setup again converges on the same hosts', async () => {
    // --converge: setup.yml runs although nothing changed (without it, setup-inplace.test.ts: skipped).
    const r = await cli(home, ['setup', EXP, '--workers', '3', '--set', 'services=[]', '--converge']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('(same hosts as before)');
    expect(r.stderr).toContain('running setup.yml: --converge');
    expect(home.state(EXP).platform.hosts).toEqual(firstHosts);
    // Nothing on the hosts changed the second time.
    expect(r.stderr).not.toMatch(/changed: /);
  });

  it('killjob releases everything and a second killjob has nothing to do', async () => {
    const stateDir = home.stateDir(EXP);
    const cp = controlPathDir(stateDir);
    const r = await cli(home, ['killjob', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^app-int: released 5 local hosts, cleared the state/);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(join(home.dir, '.greenrace'))).toBe(false);
    expect(existsSync(cp)).toBe(false);
    expect(tag).toBeDefined();
    expect(await leftovers(tag!, stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
    const again = await cli(home, ['killjob', EXP]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe('nothing to do: experiment app-int is not set up');
  });
});
