/**
 * Issue 12's done-when, through real run records: 3 namespace hosts of the local platform (one
 * physical machine), node_exporter reading one synthetic RAPL tree that all three share (a writer
 * advances its package counter at known watts: IDLE_W, then RUN_W from a step on), Prometheus and
 * the Pushgateway deployed by the real roles over SSH. Then, as a user would:
 *   - `baseline` measures the idle watts of the machine (one entry, not three);
 *   - `net` (iperf3 between the workers, a real run through the run context) records: energy = the
 *     machine's joules once (not 3×), idle = the baseline's watts × the window, dynamic = the
 *     difference, each with source, kind and coverage; its window is pushed and Prometheus finds it
 *     with a PromQL query; killjob's clean-up deletes the group;
 *   - the same run with the CPU model on a /proc/stat of known utilisation: one estimate, `estimated`;
 *   - the built CLI prints the per-machine line and the idle/dynamic lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInventory, inventoryYaml } from '../../src/ansible/inventory.js';
import { measureBaseline } from '../../src/app/baseline.js';
import { runNet } from '../../src/app/net.js';
import { writeState } from '../../src/app/state.js';
import { assetPath, PROJECT_ROOT } from '../../src/core/paths.js';
import { loadExperiment } from '../../src/experiment/load.js';
import { PrometheusClient } from '../../src/metrics/prometheus.js';
import { deleteExperimentGroups } from '../../src/metrics/window.js';
import type { RunRecord } from '../../src/runs/record.js';
import { clusterUp, requireRoot, type TestCluster } from '../support/cluster.js';

const NAME = 'energy-runs';
const SCRAPE = 2;
const SLOW = 900_000;
const IDLE_W = 20; // package watts before the step
const RUN_W = 35; // after it
const MODEL = { idle: 20, max: 60, busy: [1, 0.5] }; // mean utilisation 0.75 → 50 W per machine

let home: string;
let stateDir: string;
let cluster: TestCluster;
let writer: ChildProcess | undefined;
let deploy: (action: 'deploy' | 'destroy') => Promise<string>;
let prom: PrometheusClient;
let pushUrl: string;
let start = 0;
let step = 0;
const savedHome = process.env.GREENRACE_HOME;

/** Package joules the writer put in the counter between a and b. */
const pkgJ = (a: number, b: number): number => {
  const e = (t: number) => IDLE_W * (Math.min(t, step) - start) + RUN_W * Math.max(0, t - step);
  return e(b) - e(a);
};
const within = (got: number | null | undefined, truth: number, tol = 0.02): void => {
  expect(got, `expected ≈ ${truth}`).not.toBeNull();
  expect(Math.abs(got! - truth) / Math.abs(truth), `got ${got}, truth ${truth}`).toBeLessThan(tol);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const EXPERIMENT = (sources: string) => `platform: {kind: local, local: {subnet: 10.86.0.0/24}}
roles: {control: 1, broker: 0, worker: 2}
services: [node_exporter, pushgateway, prometheus]
monitoring: {scrape_interval: ${SCRAPE}s}
energy:
  sources: [${sources}]
  model: {idle_watts: ${MODEL.idle}, max_watts: ${MODEL.max}}
net: {tool: iperf3, duration: 8s, server_role: worker, client_role: worker}
`;

beforeAll(async () => {
  requireRoot();
  home = mkdtempSync(join(tmpdir(), 'gr-energy-runs-'));
  process.env.GREENRACE_HOME = home;
  mkdirSync(join(home, 'experiments'), { recursive: true });
  writeFileSync(join(home, 'experiments', `${NAME}.yaml`), EXPERIMENT('rapl'));
  stateDir = join(home, '.greenrace', NAME);
  cluster = await clusterUp(NAME, { roles: { control: 1, broker: 0, worker: 2 }, subnet: '10.86.0.0/24', stateDir });
  const h = cluster.handle;
  // The local platform says all three hosts are this one machine.
  expect(new Set(h.hosts.map((x) => x.machine)).size).toBe(1);
  const dir = (n: string) => h.dataDirs[n]!;
  // One powercap tree (the machine's), seen by every host's node_exporter as its sysfs.
  const tree = join(stateDir, 'machine-powercap');
  const procDir = join(stateDir, 'machine-proc');
  const cfg = join(stateDir, 'writer.json');
  writeFileSync(cfg, JSON.stringify({ trees: [{ dir: tree, pkgLowW: IDLE_W, pkgHighW: RUN_W, dramW: 0 }], proc: { dir: procDir, busy: MODEL.busy } }));
  writer = spawn(process.execPath, [join(import.meta.dirname, 'energy-writer.mjs'), cfg], { stdio: ['pipe', 'pipe', 'inherit'] });
  start = await new Promise<number>((resolve, reject) => {
    writer!.once('exit', (c) => reject(new Error(`energy writer exited (${c})`)));
    createInterface({ input: writer!.stdout! }).once('line', (l) => resolve(Number(l.split(' ')[1])));
  });
  for (const n of h.hosts.map((x) => x.name)) {
    const sys = join(dir(n), 'sys', 'class', 'powercap');
    mkdirSync(sys, { recursive: true });
    if (!existsSync(join(sys, 'intel-rapl:0'))) symlinkSync(join(tree, 'intel-rapl:0'), join(sys, 'intel-rapl:0'));
  }
  const inv = buildInventory({ experiment: NAME, stateDir, hosts: h.hosts, dataDirs: h.dataDirs, sharedFilesystem: h.sharedFilesystem });
  for (const g of Object.values(inv.all.children))
    for (const [n, v] of Object.entries(g.hosts)) Object.assign(v, { node_exporter_sysfs: join(dir(n), 'sys'), node_exporter_procfs: procDir });
  writeFileSync(join(stateDir, 'monitoring-inventory.yml'), inventoryYaml(inv));
  const control = h.hosts.find((x) => x.roles.includes('control'))!;
  const targetHosts = Object.fromEntries(h.hosts.map((x) => [`${x.address}:9100`, x.name]));
  writeFileSync(
    join(stateDir, 'monitoring-vars.json'),
    JSON.stringify({
      gr_scrape_jobs: [
        { job_name: 'node', targets: Object.keys(targetHosts), metrics_path: '/metrics', honor_labels: false, target_hosts: targetHosts },
        { job_name: 'pushgateway', targets: [`${control.address}:9091`], metrics_path: '/metrics', honor_labels: true, target_hosts: { [`${control.address}:9091`]: control.name } },
      ],
      gr_config: { monitoring: { scrape_interval: SCRAPE, retention: '1d', external_labels: {}, remote_write: [] }, energy: { scaphandre: {} } },
      node_exporter_extra_args: ['--collector.disable-defaults', '--collector.rapl', '--collector.cpu', '--collector.textfile'],
    }),
  );
  deploy = async (action) =>
    (
      await execa(
        'ansible-playbook',
        ['-i', join(stateDir, 'monitoring-inventory.yml'), 'playbooks/monitoring-stack.yml', '-e', `@${join(stateDir, 'monitoring-vars.json')}`, '-e', `gr_monitoring_action=${action}`],
        { cwd: assetPath('ansible'), env: { ANSIBLE_CONFIG: assetPath('ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' }, timeout: SLOW },
      )
    ).stdout;
  expect(await deploy('deploy')).toMatch(/failed=0/);
  prom = new PrometheusClient(`http://${control.address}:9090`);
  pushUrl = `http://${control.address}:9091`;
  await prom.waitForTargets({ timeoutMs: 90_000, minTargets: 4 });
  // The experiment's state as `setup` leaves it (ready, endpoints, when it finished).
  const { experiment } = loadExperiment(NAME);
  const now = new Date().toISOString();
  writeState(stateDir, {
    version: 1,
    experiment: NAME,
    phase: 'ready',
    platformKind: 'local',
    platform: h,
    experimentSnapshot: experiment,
    files: [join(home, 'experiments', `${NAME}.yaml`)],
    services: ['node_exporter', 'pushgateway', 'prometheus'],
    endpoints: { prometheus_url: prom.url, pushgateway_url: pushUrl },
    createdAt: now,
    updatedAt: now,
    setupFinishedAt: now,
  });
}, SLOW);

afterAll(async () => {
  try {
    if (deploy) expect(await deploy('destroy')).toMatch(/failed=0/);
  } finally {
    writer?.stdin?.end();
    writer?.kill();
    if (cluster) await cluster.down();
    if (savedHome === undefined) delete process.env.GREENRACE_HOME;
    else process.env.GREENRACE_HOME = savedHome;
    if (home) rmSync(home, { recursive: true, force: true });
  }
}, SLOW);

describe('run records: energy per machine, idle from the baseline, dynamic, the window on the Pushgateway', () => {
  let rec: RunRecord;

  it('baseline: one idle figure for the one machine (its RAPL package watts)', async () => {
    await sleep(4000);
    const r = await measureBaseline(NAME, { seconds: 10 });
    const machines = Object.values(r.baseline.machines);
    expect(machines).toHaveLength(1);
    within(machines[0]!.watts, IDLE_W, 0.01);
    expect(machines[0]).toMatchObject({ source: 'rapl:package', kind: 'measured' });
    expect(machines[0]!.hosts).toHaveLength(3);
    console.log(`baseline: ${machines[0]!.watts.toFixed(3)} W (written ${IDLE_W} W) from ${machines[0]!.source}, coverage ${machines[0]!.coverage}`);
  }, 120_000);

  it('net (iperf3): energy = the machine once, idle = baseline W × window, dynamic = the difference, with source/kind/coverage', async () => {
    step = Date.now() / 1000 + 1;
    writer!.stdin!.write(`step ${step}\n`);
    await sleep(3000);
    rec = (await runNet({ exp: NAME })).record;
    expect(rec.status).toBe('completed');
    const w = rec.window!;
    const T = w.end - w.start;
    const e = rec.energy!;
    const truth = pkgJ(w.start, w.end);
    expect(e.machines).toHaveLength(1);
    const m = e.machines![0]!;
    expect(m.hosts.sort()).toEqual(['control-1', 'worker-1', 'worker-2']);
    expect(m).toMatchObject({ source: 'rapl:package', kind: 'measured' });
    expect(m.coverage).toBeGreaterThan(0.9);
    within(e.totalJoules, truth, 0.01); // the machine's joules…
    expect(e.totalJoules!).toBeLessThan(1.5 * truth); // …not 3× them
    within(e.idleJoules, IDLE_W * T, 0.01);
    within(m.idleWatts, IDLE_W, 0.01);
    within(e.dynamicJoules, (RUN_W - IDLE_W) * T, 0.03);
    expect(e.dynamicJoules!).toBeCloseTo(e.totalJoules! - e.idleJoules!, 6);
    expect(e).toMatchObject({ kind: 'measured', sources: ['rapl:package'], baseline: { status: 'used', stale: false } });
    expect(e.baseline!.measuredAt).toBeDefined();
    // Per-host figures are an attribution adding up to the machine.
    expect(e.perHost.reduce((s, h) => s + h.joules!, 0)).toBeCloseTo(e.totalJoules!, 6);
    console.log(`net run ${rec.id}: window ${T.toFixed(2)} s; written ${truth.toFixed(2)} J, recorded ${e.totalJoules!.toFixed(2)} J; idle ${e.idleJoules!.toFixed(2)} J (${IDLE_W} W × T = ${(IDLE_W * T).toFixed(2)}); dynamic ${e.dynamicJoules!.toFixed(2)} J (written ${((RUN_W - IDLE_W) * T).toFixed(2)})`);
  }, 180_000);

  it('Prometheus finds the run\'s window from the pushed gauges (PromQL), and killjob\'s clean-up deletes them', async () => {
    expect(rec.windowPush).toEqual({ url: pushUrl, job: 'greenrace_run' });
    const sel = `{run_id="${rec.id}", experiment="${NAME}", kind="net", job="greenrace_run"}`;
    let start: number | undefined;
    let end: number | undefined;
    for (let i = 0; i < 20 && (start === undefined || end === undefined); i++) {
      start = await prom.queryScalar(`max(last_over_time(greenrace_run_start_timestamp_seconds${sel}[10m]))`);
      end = await prom.queryScalar(`max(last_over_time(greenrace_run_end_timestamp_seconds${sel}[10m]))`);
      if (start === undefined || end === undefined) await sleep(1000);
    }
    expect(start).toBeCloseTo(rec.window!.start, 3);
    expect(end).toBeCloseTo(rec.window!.end, 3);
    // The window selects exactly the run: node_exporter's RAPL counter increase over it, with `@`.
    const T = rec.window!.end - rec.window!.start;
    const inc = await prom.queryScalar(`max(increase(node_rapl_package_joules_total[${Math.round(T)}s] @ ${rec.window!.end.toFixed(3)}))`);
    expect(inc).toBeGreaterThan(0);
    const gone = await deleteExperimentGroups(pushUrl, NAME);
    expect(gone).toContain(`greenrace_run/${rec.id}`);
    const body = await (await fetch(`${pushUrl}/metrics`)).text();
    expect(body).not.toContain(rec.id);
  }, 60_000);

  it('the CPU model through the same run: one estimate for the machine, estimated, idle from the baseline', async () => {
    writeFileSync(join(home, 'experiments', `${NAME}.yaml`), EXPERIMENT('model'));
    const r = (await runNet({ exp: NAME })).record;
    const e = r.energy!;
    const T = r.window!.end - r.window!.start;
    const watts = MODEL.idle + (MODEL.max - MODEL.idle) * (MODEL.busy.reduce((a, b) => a + b, 0) / MODEL.busy.length);
    expect(e.machines).toHaveLength(1);
    expect(e.machines![0]).toMatchObject({ source: 'model', kind: 'estimated' });
    expect(e.kind).toBe('estimated');
    within(e.totalJoules, watts * T, 0.01); // 50 W × T once, not 3 × 50 W × T
    within(e.idleJoules, IDLE_W * T, 0.01); // the baseline's watts (measured by RAPL, said in the note)
    expect(e.machines![0]!.note).toMatch(/idle baseline came from rapl:package, this figure from model/);
    within(e.dynamicJoules, (watts - IDLE_W) * T, 0.02);
    console.log(`model run ${r.id}: ${e.totalJoules!.toFixed(2)} J estimated (by hand ${watts} W × ${T.toFixed(2)} s = ${(watts * T).toFixed(2)} J)`);
  }, 180_000);

  it('the built CLI prints the machine with its source, kind and coverage, and idle and dynamic energy', async () => {
    writeFileSync(join(home, 'experiments', `${NAME}.yaml`), EXPERIMENT('rapl'));
    const out = await execa('node', [join(PROJECT_ROOT, 'dist', 'entrypoint.js'), 'net', NAME, '--duration', '3'], { env: { GREENRACE_HOME: home, NO_COLOR: '1' }, timeout: 180_000 });
    const text = out.stdout;
    console.log(text);
    expect(text).toMatch(/energy \(total\)\s+[\d,.]+ J over [\d.]+ s, mean [\d.]+ W, measured — 1 machine, each counted once/);
    expect(text).toMatch(/machine \S+\s+[\d,.]+ J from rapl:package \(measured, coverage \d+(\.\d)? %, \d+ samples\); hosts control-1, worker-1, worker-2/);
    // The writer draws 20 W at idle; the baseline measures it over a sampled window (19.98 W seen).
    const idle = /idle\s+[\d,.]+ J = \S+ ([\d.]+) W \(rapl:package\) × [\d.]+ s \(baseline of /.exec(text);
    expect(idle, text).not.toBeNull();
    expect(Math.abs(Number(idle![1]) - 20)).toBeLessThan(0.4);
    expect(text).toMatch(/dynamic\s+[\d,.]+ J \(total − idle\)/);
    expect(text).not.toMatch(/entrypoint baseline/);
    // Without the baseline: one line saying how to take one.
    rmSync(join(stateDir, 'baseline.json'));
    const out2 = await execa('node', [join(PROJECT_ROOT, 'dist', 'entrypoint.js'), 'net', NAME, '--duration', '2'], { env: { GREENRACE_HOME: home, NO_COLOR: '1' }, timeout: 180_000 });
    expect(out2.stdout.split('\n').filter((l) => l.includes('entrypoint baseline'))).toEqual([
      expect.stringMatching(/^idle \/ dynamic\s+— no idle baseline: take one with `entrypoint baseline energy-runs` on the idle, set-up experiment$/),
    ]);
    expect(readFileSync(join(home, 'results', NAME, 'runs.csv'), 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
  }, 400_000);
});
