import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDir, fetchFromHosts, selectHosts, shOnHosts } from '../../../src/app/remote.js';
import { writeState, type ExperimentState } from '../../../src/app/state.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import type { Host } from '../../../src/core/types.js';
import { startSshd, type Sshd } from '../remote/sshd-fixture.js';

const host = (name: string, roles: Host['roles'], extra: Partial<Host> = {}): Host => ({ name, address: '127.0.0.1', port: 22, user: 'root', roles, ...extra });
const HOSTS = [host('c-1', ['control']), host('b-1', ['broker']), host('w-1', ['worker']), host('w-2', ['worker'])];

describe('selectHosts', () => {
  it('picks a role, all, a host name, or a list of those, in order and without duplicates', () => {
    expect(selectHosts('worker', HOSTS).map((h) => h.name)).toEqual(['w-1', 'w-2']);
    expect(selectHosts('all', HOSTS)).toHaveLength(4);
    expect(selectHosts('b-1', HOSTS).map((h) => h.name)).toEqual(['b-1']);
    expect(selectHosts(['w-2', 'worker', 'control'], HOSTS).map((h) => h.name)).toEqual(['w-2', 'w-1', 'c-1']);
  });

  it('names what exists when the selection matches nothing', () => {
    expect(() => selectHosts('broker', [HOSTS[0]!, HOSTS[2]!])).toThrow('no host has the role broker (roles here: control, worker)');
    expect(() => selectHosts('wrker', HOSTS)).toThrow('"wrker" is neither a role (control, broker, worker, all) nor a host (c-1, b-1, w-1, w-2)');
    try {
      selectHosts('wrker', HOSTS);
    } catch (e) {
      expect((e as { code: string }).code).toBe('remote.bad_hosts');
    }
  });

  it('rejects a malformed selection before reading any host', () => {
    let read = false;
    const hosts = () => ((read = true), HOSTS);
    expect(() => selectHosts(42, hosts)).toThrow('expected a role (control, broker, worker), "all" or a host name (got number 42)');
    expect(() => selectHosts([], hosts)).toThrow(/got an array/);
    expect(read).toBe(false);
  });
});

describe('sh and fetch on the hosts of a state', { timeout: 120_000 }, () => {
  let sshd: Sshd;
  const root = mkdtempSync(join(tmpdir(), 'gr-app-remote-'));
  const env = { state: process.env.GREENRACE_STATE_DIR, results: process.env.GREENRACE_RESULTS_DIR };

  beforeAll(async () => {
    process.env.GREENRACE_STATE_DIR = join(root, 'state');
    process.env.GREENRACE_RESULTS_DIR = join(root, 'results');
    sshd = await startSshd();
    const onSshd = (name: string, roles: Host['roles']): Host => host(name, roles, { port: sshd.port, keyFile: sshd.keyFile });
    const st: ExperimentState = {
      version: 1,
      experiment: 'rem',
      phase: 'ready',
      platformKind: 'static',
      // Two inventory names for one sshd: results come back per host name.
      platform: { kind: 'static', data: { knownHosts: sshd.knownHostsFile }, hosts: [onSshd('ctl', ['control']), onSshd('wk-1', ['worker']), onSshd('wk-2', ['worker'])] },
      experimentSnapshot: experimentSchema.parse({ name: 'rem' }),
      files: [],
      services: [],
      endpoints: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    writeState(join(root, 'state', 'rem'), st);
  });

  afterAll(async () => {
    await sshd?.stop();
    rmSync(root, { recursive: true, force: true });
    for (const [k, v] of [['GREENRACE_STATE_DIR', env.state], ['GREENRACE_RESULTS_DIR', env.results]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("runs a command on a role's hosts, one result per host name", async () => {
    const rs = await shOnHosts('rem', 'worker', 'echo hi; echo oops >&2; exit 4');
    expect(rs.map((r) => [r.host, r.stdout, r.stderr, r.code, r.error])).toEqual([
      ['wk-1', 'hi\n', 'oops\n', 4, undefined],
      ['wk-2', 'hi\n', 'oops\n', 4, undefined],
    ]);
  });

  it('copies a file from the selected hosts into results/<exp>/fetched/<time>/<host>/', async () => {
    const rs = await fetchFromHosts('rem', ['ctl', 'wk-1'], join(sshd.dir, 'known_hosts'));
    expect(rs.map((r) => r.host)).toEqual(['ctl', 'wk-1']);
    for (const r of rs) {
      expect(r.localPath!.startsWith(join(root, 'results', 'rem', 'fetched'))).toBe(true);
      expect(readFileSync(r.localPath!, 'utf8')).toContain(sshd.hostKeyPub);
    }
    const missing = await fetchFromHosts('rem', 'control', '/nonexistent/file');
    expect(missing[0]!.error?.code).toBe('remote.no_such_file');
  });

  it('an aborted command is stopped and reported as interrupted', async () => {
    const ac = new AbortController();
    const p = shOnHosts('rem', 'wk-1', 'sleep 30', { signal: ac.signal });
    setTimeout(() => ac.abort(), 500);
    const t0 = Date.now();
    await expect(p).rejects.toThrow(/interrupted/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('checks its arguments and says when there is no cluster', async () => {
    await expect(shOnHosts('rem', 'worker', '  ')).rejects.toMatchObject({ code: 'remote.bad_command' });
    await expect(shOnHosts('rem', 'worker', 'true', { timeoutMs: 0 })).rejects.toMatchObject({ code: 'remote.bad_timeout' });
    await expect(shOnHosts('rem', 'broker', 'true')).rejects.toThrow('no host has the role broker (roles here: control, worker)');
    await expect(fetchFromHosts('rem', 'all', '')).rejects.toMatchObject({ code: 'remote.bad_path' });
    await expect(shOnHosts('nocluster', 'all', 'true')).rejects.toMatchObject({ code: 'remote.no_cluster', message: 'experiment nocluster has no cluster' });
  });

  it('names the fetch folder by UTC time', () => {
    expect(fetchDir('rem', new Date('2026-03-04T05:06:07.890Z'))).toBe(join(root, 'results', 'rem', 'fetched', '20260304T050607Z'));
  });
});
