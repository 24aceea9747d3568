/**
 * A second `setup` with nothing to change skips setup.yml and says so; a changed experiment, a
 * stopped service, a host whose SSH went away, or `--converge` run it again. Local platform, through
 * the CLI: 1 control + 1 worker with node_exporter on both.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../support/cluster.js';
import { cli, makeHome, type Home } from './setup-support.js';

const EXP = 'inplace-int';
const SLOW = 900_000;
let home: Home;
let firstFinishedAt = '';

const experimentText = (description: string): string =>
  `description: ${description}\nplatform: {kind: local}\nroles: {control: 1, broker: 0, worker: 1}\nservices: [node_exporter]\n`;

/** Whether address:port accepts a TCP connection. */
const answers = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(3000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });

/** The node_exporter processes this test's experiment started (their command lines name its home). */
function exporterPids(): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (/^State:\s*Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'))) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(home.dir) && /node.exporter/.test(cmd)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

const hostsOf = (): Array<{ name: string; address: string; roles: string[] }> => home.state(EXP).platform.hosts;
/** node_exporter's port (services/registry.ts PORTS). */
const exporterPort = (): number => 9100;

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 100));
}

beforeAll(() => {
  requireRoot();
  home = makeHome('gr-inplace-int-');
  home.write(EXP, experimentText('setup in-place integration'));
});

afterAll(async () => {
  if (home && existsSync(home.stateDir(EXP))) await cli(home, ['killjob', EXP]);
  if (home) rmSync(home.dir, { recursive: true, force: true });
});

describe('a second setup skips setup.yml only when nothing changed and everything answers', () => {
  it('the first setup runs setup.yml and records what it deployed', async () => {
    const r = await cli(home, ['setup', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toContain('running setup.yml on 2 hosts (services: node_exporter)');
    const st = home.state(EXP);
    expect(st.phase).toBe('ready');
    expect(st.setupFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(st.setupSilent).toEqual([]);
    expect(st.setupSkipped).toBeUndefined();
    firstFinishedAt = st.setupFinishedAt;
    for (const h of hostsOf()) expect(await answers(h.address, exporterPort())).toBe(true);
  }, SLOW);

  it('a second setup skips it, says why, and status shows both setups', async () => {
    const r = await cli(home, ['setup', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    const line = `setup.yml skipped: nothing changed since the setup of ${firstFinishedAt}; ports answer; \`setup --converge\` to run it anyway`;
    expect(r.stdout).toContain(line);
    expect(r.stdout).toContain('(same hosts as before)');
    expect(r.stderr).not.toMatch(/running setup\.yml|play: /);
    const st = home.state(EXP);
    expect(st.phase).toBe('ready');
    expect(st.setupFinishedAt).toBe(firstFinishedAt);
    expect(st.setupSkipped.at > firstFinishedAt).toBe(true);
    const s = await cli(home, ['status', EXP, '--json']);
    expect(s.exitCode, s.all).toBe(0);
    const rep = JSON.parse(s.stdout);
    expect(rep.phase).toBe('ready');
    expect(rep.setupFinishedAt).toBe(firstFinishedAt);
    expect(rep.setupSkipped.at).toBe(st.setupSkipped.at);
    expect(rep.hosts.every((h: { reachable: boolean }) => h.reachable)).toBe(true);
    const text = await cli(home, ['status', EXP]);
    expect(text.stdout).toContain(`setup again at ${st.setupSkipped.at}`);
  }, SLOW);

  it('a changed experiment file runs it', async () => {
    home.write(EXP, experimentText('setup in-place integration, edited'));
    const r = await cli(home, ['setup', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toContain('running setup.yml: the experiment, its hosts, the Ansible files or greenrace changed since the last setup');
    expect(r.stderr).toContain('play: ');
    expect(r.stdout).not.toContain('setup.yml skipped');
    const st = home.state(EXP);
    expect(st.setupFinishedAt > firstFinishedAt).toBe(true);
    expect(st.setupSkipped).toBeUndefined();
    // and the same file again is skipped
    const again = await cli(home, ['setup', EXP]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toContain(`setup.yml skipped: nothing changed since the setup of ${st.setupFinishedAt}`);
  }, SLOW);

  it('a killed service process runs it, and the service answers again', async () => {
    const pids = exporterPids();
    expect(pids.length).toBe(2);
    process.kill(pids[0]!, 'SIGKILL');
    await waitGone(pids[0]!);
    // A killed multi-threaded program shows as a zombie as soon as its first thread exits; its
    // listening socket closes with the last one (until then the kernel still accepts connections).
    let down: string[] = [];
    for (let i = 0; i < 50 && down.length !== 1; i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      down = [];
      for (const h of hostsOf()) if (!(await answers(h.address, exporterPort()))) down.push(h.name);
    }
    expect(down).toHaveLength(1);
    const r = await cli(home, ['setup', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`running setup\\.yml: no longer answering: node_exporter on ${down[0]} \\(`));
    expect(r.stdout).not.toContain('setup.yml skipped');
    for (const h of hostsOf()) expect(await answers(h.address, exporterPort())).toBe(true);
    expect(home.state(EXP).setupSilent).toEqual([]);
  }, SLOW);

  it('a host whose SSH stopped answering runs it (the platform restarts its sshd first)', async () => {
    const worker = hostsOf().find((h) => h.roles.includes('worker'))! as { name: string; address: string; vars: { gr_netns: string } };
    // Every sshd of the worker's namespace (the listener and the sessions Ansible's connections
    // hold: the local platform restarts sshd only when none runs there).
    const { stdout } = await execa('ip', ['netns', 'pids', worker.vars.gr_netns]);
    const sshds = stdout.split('\n').filter(Boolean).map(Number).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd';
      } catch {
        return false;
      }
    });
    expect(sshds.length).toBeGreaterThan(0);
    for (const p of sshds) process.kill(p, 'SIGTERM');
    for (const p of sshds) await waitGone(p);
    expect(await answers(worker.address, 22)).toBe(false);
    const r = await cli(home, ['setup', EXP]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toContain(`running setup.yml: not answering on SSH before the reattach: ${worker.name} (${worker.address}:22)`);
    expect(r.stderr).toContain('play: ');
    expect(await answers(worker.address, 22)).toBe(true);
  }, SLOW);

  it('setup --converge runs it with nothing to change', async () => {
    const r = await cli(home, ['setup', EXP, '--converge']);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toContain('running setup.yml: --converge');
    expect(r.stderr).toContain('play: ');
    expect(r.stderr).not.toMatch(/changed: /);
    expect(r.stdout).not.toContain('setup.yml skipped');
  }, SLOW);
});
