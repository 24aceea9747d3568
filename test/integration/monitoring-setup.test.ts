/**
 * `setup` with the monitoring services on the local platform (3 namespace hosts on 10.81.0.0/24),
 * through the CLI as a user runs it: every target up within a bounded time, a pushed metric read
 * back through Prometheus, `status` showing target health, `baseline` giving idle watts per machine
 * with their source, a second `setup` changing nothing in the monitoring roles, and `killjob`
 * leaving no exporter, Pushgateway or Prometheus process behind.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../support/cluster.js';
import { cli, makeHome, type Home } from './setup-support.js';
import { PrometheusClient } from '../../src/metrics/prometheus.js';
import { PushgatewayClient } from '../../src/metrics/pushgateway.js';

const EXP = 'mon-setup';
const ROLES = ['node_exporter', 'prometheus', 'pushgateway', 'scaphandre'];
/** setup of 3 hosts takes 1-2 min on an idle machine, far longer on a loaded shared one. */
const SLOW = 1_200_000;
let home: Home;

/** PIDs of processes whose command line mentions the test's home folder (per-host data dirs live there). */
function processesUnder(dir: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      if (/^State:\s*Z/m.test(status)) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(dir) && /prometheus|node-exporter|pushgateway|scaphandre/.test(cmd)) out.push({ pid: Number(p), cmd });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Changed results of the monitoring roles' tasks in the newest setup events file. */
function changedInMonitoringRoles(stateDir: string): string[] {
  const logs = join(stateDir, 'logs');
  const ev = readdirSync(logs).filter((f) => f.includes('setup') && f.endsWith('.jsonl')).sort().pop();
  if (!ev) throw new Error(`no setup events file in ${logs}: ${readdirSync(logs).join(', ')}`);
  return readFileSync(join(logs, ev), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; changed?: boolean; task?: string; host?: string })
    .filter((e) => e.event === 'result' && e.changed && ROLES.some((r) => (e.task ?? '').startsWith(`${r} : `) || (e.task ?? '').includes(r)))
    .map((e) => `${e.host}: ${e.task}`);
}

beforeAll(() => {
  requireRoot();
  home = makeHome('gr-mon-setup-');
  home.write(
    EXP,
    [
      'description: monitoring integration',
      'platform: {kind: local, local: {subnet: 10.81.0.0/24}}',
      'roles: {control: 1, broker: 0, worker: 2}',
      'services: [node_exporter, scaphandre, pushgateway, prometheus]',
      'monitoring: {scrape_interval: 1s}',
      'energy: {model: {idle_watts: 20, max_watts: 60}}',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (home && existsSync(home.stateDir(EXP))) {
    const k = await cli(home, ['killjob', EXP], { timeout: SLOW });
    // Keep the home (and its state) when killjob could not clean up, so it can be run again by hand.
    if (k.exitCode !== 0) throw new Error(`killjob failed; state kept in ${home.dir}:\n${k.all}`);
  }
  if (home) rmSync(home.dir, { recursive: true, force: true });
}, SLOW);

describe('monitoring stack through setup on the local platform', () => {
  let prom: PrometheusClient;
  let endpoints: Record<string, string>;

  it('setup waits until every target is up: `status` right after it exits 0 (issue 13 item 13)', async () => {
    const r = await cli(home, ['setup', EXP], { timeout: SLOW });
    expect(r.exitCode, r.all).toBe(0);
    // Nothing in between: status is run the moment setup returns, as `setup && status` does.
    const now = await cli(home, ['status', EXP, '--json']);
    expect(now.exitCode, now.all).toBe(0);
    expect(JSON.parse(now.stdout).sections['scrape targets'].rows.map((x: { state: string }) => x.state)).toEqual(['up', 'up', 'up', 'up', 'up']);
    expect(r.stdout).toMatch(/^scrape targets: 5\/5 up \(\d+\.\d s after the play\)$/m);
    expect(r.stderr).toMatch(/^waiting for the scrape targets: Prometheus http:\/\/10\.81\.0\.\d+:9090: 5\/5 targets up$/m);
    const st = home.state(EXP);
    endpoints = st.endpoints;
    expect(endpoints.prometheus_url).toMatch(/^http:\/\/10\.81\.0\.\d+:9090$/);
    expect(endpoints.pushgateway_url).toMatch(/^http:\/\/10\.81\.0\.\d+:9091$/);
    prom = new PrometheusClient(endpoints.prometheus_url!);
    // Scaphandre says plainly why it is not there: on the terminal (task) and in the setup log (message).
    expect(r.all).toMatch(/scaphandre : Say plainly that there are no RAPL counters .*ok: 3/);
    const logs = join(home.stateDir(EXP), 'logs');
    const log = readdirSync(logs).filter((f) => f.endsWith('-setup.log')).sort().pop()!;
    expect(readFileSync(join(logs, log), 'utf8')).toMatch(/worker-1: no RAPL counters \(\/sys\/class\/powercap\/intel-rapl\* absent\): scaphandre skipped/);
    const targets = await prom.waitForTargets({ timeoutMs: 60_000, minTargets: 5 });
    expect(targets.map((t) => t.job).sort()).toEqual(['node', 'node', 'node', 'prometheus', 'pushgateway']);
    expect(new Set(targets.filter((t) => t.job === 'node').map((t) => t.labels.host)).size).toBe(3);
  }, SLOW);

  it('a metric pushed to the Pushgateway is read back through Prometheus', async () => {
    await new PushgatewayClient(endpoints.pushgateway_url!).push([{ name: 'greenrace_test_value', help: 'test', value: 42.5, labels: { run_id: 'r-mon' } }], {
      job: 'greenrace_test',
      groupings: { run_id: 'r-mon' },
    });
    let v: number | undefined;
    for (let i = 0; i < 30 && v === undefined; i++) {
      v = await prom.queryScalar('greenrace_test_value{run_id="r-mon",job="greenrace_test"}');
      if (v === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(v).toBe(42.5);
  });

  it('status shows each scrape target up and the Prometheus URL', async () => {
    const r = await cli(home, ['status', EXP, '--json']);
    expect(r.exitCode, r.all).toBe(0);
    const s = JSON.parse(r.stdout);
    const sec = s.sections['scrape targets'];
    expect(sec.prometheus_url).toBe(endpoints.prometheus_url);
    expect(sec.targets).toHaveLength(5);
    expect(sec.targets.every((t: { health: string }) => t.health === 'up')).toBe(true);
    const text = await cli(home, ['status', EXP, '--no-check']);
    expect(text.stdout).toContain(`Prometheus ${endpoints.prometheus_url}: 5/5 targets up`);
  });

  it('baseline prints idle watts per machine with its hosts and source (the model here: no sensors)', async () => {
    const r = await cli(home, ['baseline', EXP, '--seconds', '8']);
    expect(r.exitCode, r.all).toBe(0);
    const b = JSON.parse(readFileSync(join(home.stateDir(EXP), 'baseline.json'), 'utf8'));
    // The 3 namespace hosts are one machine: one row, naming every host, measured once.
    const rows = r.stdout.split('\n').filter((l) => /\s\d+\.\d\d\s+model\s+estimated\s/.test(l));
    expect(rows, r.stdout).toHaveLength(1);
    for (const h of Object.keys(b.hosts)) expect(rows[0]).toContain(h);
    // Per machine (schema /2): every host maps to a machine that has idle watts.
    expect(b.schema).toBe('greenrace.baseline/2');
    expect(Object.keys(b.hosts)).toHaveLength(3);
    for (const m of Object.values(b.hosts) as string[]) expect(b.machines[m]).toBeDefined();
    for (const m of Object.values(b.machines) as Array<{ watts: number; source: string }>) {
      expect(m.source).toBe('model');
      expect(m.watts).toBeGreaterThanOrEqual(20);
      expect(m.watts).toBeLessThanOrEqual(60);
    }
  });

  it('a second setup changes nothing in the monitoring roles', async () => {
    // --converge: the play runs although nothing changed (a plain second setup skips it).
    const r = await cli(home, ['setup', EXP, '--converge'], { timeout: SLOW });
    expect(r.exitCode, r.all).toBe(0);
    expect(changedInMonitoringRoles(home.stateDir(EXP))).toEqual([]);
    expect((await prom.waitForTargets({ timeoutMs: 30_000, minTargets: 5 })).length).toBe(5);
  }, SLOW);

  it('killjob leaves no exporter, Pushgateway or Prometheus process', async () => {
    expect(processesUnder(home.dir).length).toBeGreaterThanOrEqual(5);
    const r = await cli(home, ['killjob', EXP], { timeout: SLOW });
    expect(r.exitCode, r.all).toBe(0);
    let left = processesUnder(home.dir);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((res) => setTimeout(res, 250));
      left = processesUnder(home.dir);
    }
    expect(left).toEqual([]);
  }, SLOW);
});
