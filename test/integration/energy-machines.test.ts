/**
 * Energy per physical machine, for real, on 3 namespace hosts of the local platform (10.88.0.0/24):
 * the monitoring roles (ansible-playbook over SSH) deploy node_exporter and Scaphandre 1.0.0 (built
 * by setup/install-scaphandre.sh, copied from the controller) on every host and Prometheus on the
 * control host. Each host has its own powercap tree (gr_data_dir/powercap, read by Scaphandre in
 * --vm mode and by node_exporter as its sysfs); a writer process advances them at known powers:
 *   control-1 and worker-1 are ONE machine ("box": worker-1's zone is a symlink to control-1's, as
 *   namespace hosts read the same counters): package 20 W then 35 W, dram 4 W;
 *   worker-2 is another machine: package 30 W then 50 W, dram 4 W.
 * The account must give each machine's joules once (not once per host) within 1 %, from Scaphandre
 * (package + dram) and from node_exporter's RAPL (package), the idle baseline's watts × the window,
 * the dynamic energy as the difference, each with source, kind and coverage; and the same with the
 * CPU model (estimated) on a /proc/stat of known utilisation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPath } from '../../src/core/paths.js';
import { buildInventory, inventoryYaml } from '../../src/ansible/inventory.js';
import { PrometheusClient } from '../../src/metrics/prometheus.js';
import { energyAccount, baselineFromAccount, type EnergyAccount } from '../../src/metrics/energy/account.js';
import { RaplSource } from '../../src/metrics/energy/rapl.js';
import { ScaphandreSource } from '../../src/metrics/energy/scaphandre.js';
import { ModelSource } from '../../src/metrics/energy/model.js';
import type { EnergyHost, EnergySource, EnergyWindow } from '../../src/metrics/energy/source.js';
import { clusterUp, requireRoot, type TestCluster } from '../support/cluster.js';
import { recapChanged } from './monitoring-stack.js';

const NAME = 'energy-machines';
const SCRAPE = 2; // s; Scaphandre's job is scraped every 3 s (prometheus_min_job_interval)
const SLOW = 900_000;
const scaphandreBuild = join(process.env.GREENRACE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'greenrace'), 'scaphandre-1.0.0', 'bin', 'scaphandre');
const sleepUntil = async (t: number) => {
  const ms = t * 1000 - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
};

/** Package watts before and after the step, and dram watts, per machine. */
const BOX = { low: 20, high: 35, dram: 4 };
const W2 = { low: 30, high: 50, dram: 4 };

let cluster: TestCluster;
let writer: ChildProcess | undefined;
let start = 0;
let step = 0;
let prom: PrometheusClient;
let run: (action: 'deploy' | 'destroy') => Promise<string>;
let hosts: EnergyHost[];
let idleWindow: EnergyWindow;
let runWindow: EnergyWindow;

/** Joules written into a tree's package (or dram) counter between two times. */
const pkgJ = (m: typeof BOX, a: number, b: number): number => {
  const e = (t: number) => m.low * (Math.min(t, step) - start) + m.high * Math.max(0, t - step);
  return e(b) - e(a);
};
const dramJ = (m: typeof BOX, a: number, b: number): number => m.dram * (b - a);
const len = (w: EnergyWindow): number => w.end - w.start;
const within = (got: number | null | undefined, truth: number, tol = 0.01): void => {
  expect(got, `expected ≈ ${truth}`).not.toBeNull();
  expect(Math.abs(got! - truth) / Math.abs(truth), `got ${got}, truth ${truth}`).toBeLessThan(tol);
};

beforeAll(async () => {
  requireRoot();
  if (!existsSync(scaphandreBuild)) throw new Error(`no Scaphandre build at ${scaphandreBuild}: run setup/install-scaphandre.sh (setup/install.sh --tests does)`);
  cluster = await clusterUp(NAME, { roles: { control: 1, broker: 0, worker: 2 }, subnet: '10.88.0.0/24' });
  const h = cluster.handle;
  const dir = (n: string) => h.dataDirs[n]!;
  // Powercap trees: control-1 real, worker-1's zone a link to it (same machine), worker-2 its own.
  // node_exporter reads <data>/sys/class/powercap/intel-rapl:0, linked like the real sysfs.
  const box = join(dir('control-1'), 'powercap');
  const link = (target: string, path: string) => existsSync(path) || symlinkSync(target, path);
  const zones = ['intel-rapl:0', 'intel-rapl:0:0']; // package and its dram domain, both listed at the top
  mkdirSync(join(dir('worker-1'), 'powercap'), { recursive: true });
  for (const z of zones) link(join(box, z), join(dir('worker-1'), 'powercap', z));
  for (const n of ['control-1', 'worker-1', 'worker-2']) {
    const sys = join(dir(n), 'sys', 'class', 'powercap');
    mkdirSync(sys, { recursive: true });
    for (const z of zones) link(join(dir(n), 'powercap', z), join(sys, z));
  }
  const procDir = join(cluster.stateDir, 'energy-proc');
  const cfg = join(cluster.stateDir, 'energy-writer.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      trees: [
        { dir: box, pkgLowW: BOX.low, pkgHighW: BOX.high, dramW: BOX.dram },
        { dir: join(dir('worker-2'), 'powercap'), pkgLowW: W2.low, pkgHighW: W2.high, dramW: W2.dram },
      ],
      proc: { dir: procDir, busy: [1, 0.5] }, // mean CPU utilisation 0.75 on every host (one /proc/stat)
    }),
  );
  writer = spawn(process.execPath, [join(import.meta.dirname, 'energy-writer.mjs'), cfg], { stdio: ['pipe', 'pipe', 'inherit'] });
  start = await new Promise<number>((resolve, reject) => {
    writer!.once('exit', (c) => reject(new Error(`energy writer exited (${c})`)));
    createInterface({ input: writer!.stdout! }).once('line', (l) => resolve(Number(l.split(' ')[1])));
  });

  const inv = buildInventory({ experiment: NAME, stateDir: cluster.stateDir, hosts: h.hosts, dataDirs: h.dataDirs, sharedFilesystem: h.sharedFilesystem });
  for (const g of Object.values(inv.all.children))
    for (const [n, v] of Object.entries(g.hosts)) Object.assign(v, { node_exporter_sysfs: join(dir(n), 'sys'), node_exporter_procfs: procDir });
  writeFileSync(join(cluster.stateDir, 'energy-inventory.yml'), inventoryYaml(inv));
  const target = (port: number) => h.hosts.map((x) => `${x.address}:${port}`);
  const targetHosts = (port: number) => Object.fromEntries(h.hosts.map((x) => [`${x.address}:${port}`, x.name]));
  const control = h.hosts.find((x) => x.roles.includes('control'))!;
  writeFileSync(
    join(cluster.stateDir, 'energy-vars.json'),
    JSON.stringify({
      gr_with_scaphandre: true,
      gr_scrape_jobs: [
        { job_name: 'node', targets: target(9100), metrics_path: '/metrics', honor_labels: false, target_hosts: targetHosts(9100) },
        { job_name: 'scaphandre', targets: target(8080), metrics_path: '/metrics', honor_labels: false, target_hosts: targetHosts(8080) },
        { job_name: 'pushgateway', targets: [`${control.address}:9091`], metrics_path: '/metrics', honor_labels: true, target_hosts: { [`${control.address}:9091`]: control.name } },
      ],
      gr_config: { monitoring: { scrape_interval: SCRAPE, retention: '1d', external_labels: {}, remote_write: [] }, energy: { scaphandre: {} } },
      node_exporter_extra_args: ['--collector.disable-defaults', '--collector.rapl', '--collector.cpu', '--collector.textfile'],
    }),
  );
  run = async (action) =>
    (
      await execa(
        'ansible-playbook',
        ['-i', join(cluster.stateDir, 'energy-inventory.yml'), 'playbooks/monitoring-stack.yml', '-e', `@${join(cluster.stateDir, 'energy-vars.json')}`, '-e', `gr_monitoring_action=${action}`],
        { cwd: assetPath('ansible'), env: { ANSIBLE_CONFIG: assetPath('ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' }, timeout: SLOW },
      )
    ).stdout;
  const out = await run('deploy');
  expect(out).toMatch(/failed=0/);
  prom = new PrometheusClient(`http://${control.address}:9090`);
  await prom.waitForTargets({ timeoutMs: 90_000, minTargets: 8 });
  // The timeline: an idle window, then every package steps up, then the run window.
  const ready = Date.now() / 1000;
  idleWindow = { start: ready + 2, end: ready + 14 };
  step = ready + 17;
  writer.stdin!.write(`step ${step}\n`);
  runWindow = { start: step + 4, end: step + 22 };
  hosts = h.hosts.map((x) => ({ name: x.name, address: x.address }));
}, SLOW);

afterAll(async () => {
  try {
    if (run) expect(await run('destroy')).toMatch(/failed=0/);
  } finally {
    writer?.stdin?.end();
    writer?.kill();
    if (cluster) {
      await cluster.down();
      rmSync(cluster.stateDir, { recursive: true, force: true });
    }
  }
}, SLOW);

/** The hosts as the local platform will describe them: control-1 and worker-1 on machine "box". */
const onMachines = (): EnergyHost[] => hosts.map((h) => (h.name === 'worker-2' ? h : { ...h, machine: 'box' }));

describe('energy per machine from real exporters on namespace hosts', () => {
  it('Scaphandre runs in --vm mode on each host\'s own tree, scraped every 3 s', async () => {
    for (const n of ['control-1', 'worker-1', 'worker-2']) {
      const line = readFileSync(join(cluster.handle.dataDirs[n]!, 'scaphandre', 'scaphandre.cmdline'), 'utf8');
      expect(line).toContain(`SCAPHANDRE_POWERCAP_PATH=${join(cluster.handle.dataDirs[n]!, 'powercap')} `);
      expect(line).toMatch(/scaphandre --vm prometheus --address 10\.88\.0\.\d+ --port 8080/);
    }
    const cfg = (await (await fetch(`${prom.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
    expect(cfg.data.yaml).toMatch(/job_name: scaphandre\n(?:\s+\w+: .*\n)*?\s+scrape_interval: 3s\n/);
    const v = await prom.queryVector('scaph_host_energy_microjoules');
    expect(v.map((x) => x.metric.host).sort()).toEqual(['control-1', 'worker-1', 'worker-2']);
    // Scaphandre found the package and its dram domain in each tree.
    const domains = await prom.queryVector('scaph_domain_energy_microjoules');
    expect(domains.filter((d) => d.metric.domain_name === 'dram').map((d) => d.metric.host).sort()).toEqual(['control-1', 'worker-1', 'worker-2']);
  });

  it('Scaphandre: each host reads its tree (package + dram) within 1 %', async () => {
    await sleepUntil(idleWindow.end + 8);
    const got = await new ScaphandreSource(prom, SCRAPE).measure({ hosts, window: idleWindow });
    const truthBox = pkgJ(BOX, idleWindow.start, idleWindow.end) + dramJ(BOX, idleWindow.start, idleWindow.end);
    const truthW2 = pkgJ(W2, idleWindow.start, idleWindow.end) + dramJ(W2, idleWindow.start, idleWindow.end);
    console.log(`Scaphandre idle window ${len(idleWindow)} s: written box ${truthBox.toFixed(2)} J, worker-2 ${truthW2.toFixed(2)} J; read ${got.map((g) => `${g.host} ${g.joules?.toFixed(2)} J (${g.coverage.samples} samples)`).join(', ')}`);
    within(got[0]!.joules, truthBox);
    within(got[1]!.joules, truthBox); // the same counters through the link
    within(got[2]!.joules, truthW2);
    expect(got.every((g) => g.kind === 'measured' && g.coverage.fraction > 0.9 && g.note === undefined)).toBe(true);
  }, 60_000);

  const accounts: Record<string, { idle: EnergyAccount; run: EnergyAccount }> = {};
  const twoWindows = async (sources: EnergySource[]) => {
    await sleepUntil(runWindow.end + 8);
    const idle = await energyAccount(sources, onMachines(), idleWindow);
    const baseline = baselineFromAccount(NAME, idle);
    return { idle, baseline, run: await energyAccount(sources, onMachines(), runWindow, { baseline, setupAt: start }) };
  };

  it('Scaphandre account: each machine once, idle = baseline watts × window, dynamic = the difference', async () => {
    const { idle, baseline, run: acc } = await twoWindows([new ScaphandreSource(prom, SCRAPE)]);
    accounts.scaphandre = { idle, run: acc };
    const T = len(runWindow);
    const box = pkgJ(BOX, runWindow.start, runWindow.end) + dramJ(BOX, runWindow.start, runWindow.end);
    const w2 = pkgJ(W2, runWindow.start, runWindow.end) + dramJ(W2, runWindow.start, runWindow.end);
    expect(acc.machines.map((m) => [m.machine, m.hosts, m.source, m.kind])).toEqual([
      ['box', ['control-1', 'worker-1'], 'scaphandre', 'measured'],
      ['worker-2', ['worker-2'], 'scaphandre', 'measured'],
    ]);
    within(acc.machines[0]!.joules, box);
    within(acc.machines[1]!.joules, w2);
    within(acc.totalJoules, box + w2); // not 2 × box + w2
    expect(acc.totalJoules!).toBeLessThan(1.2 * (box + w2));
    // Baseline: per-machine idle watts (package low + dram).
    within(baseline.machines.box!.watts, BOX.low + BOX.dram);
    within(baseline.machines['worker-2']!.watts, W2.low + W2.dram);
    const idleJ = (BOX.low + BOX.dram + W2.low + W2.dram) * T;
    within(acc.idleJoules, idleJ);
    within(acc.dynamicJoules, box + w2 - idleJ, 0.02);
    within(acc.dynamicJoules, (BOX.high - BOX.low + W2.high - W2.low) * T, 0.02);
    expect(acc.baseline).toMatchObject({ status: 'used', stale: false });
    expect(acc.kind).toBe('measured');
    expect(acc.coverage).toBeGreaterThan(0.9);
    // Per-host figures: an attribution that adds up to the machine.
    expect(acc.hosts.filter((x) => x.machine === 'box').reduce((s, x) => s + x.joules!, 0)).toBeCloseTo(acc.machines[0]!.joules!, 6);
    console.log(`Scaphandre run window ${T.toFixed(1)} s: written ${(box + w2).toFixed(2)} J, accounted ${acc.totalJoules!.toFixed(2)} J (${((100 * (acc.totalJoules! - box - w2)) / (box + w2)).toFixed(3)} %); idle ${acc.idleJoules!.toFixed(2)} J, dynamic ${acc.dynamicJoules!.toFixed(2)} J (written ${((BOX.high - BOX.low + W2.high - W2.low) * T).toFixed(2)} J)`);
  }, 90_000);

  it('node_exporter RAPL account: the package only, each machine once, with the baseline', async () => {
    const { baseline, run: acc } = await twoWindows([new RaplSource(prom, SCRAPE)]);
    const T = len(runWindow);
    const box = pkgJ(BOX, runWindow.start, runWindow.end);
    const w2 = pkgJ(W2, runWindow.start, runWindow.end);
    expect(acc.sources).toEqual(['rapl:package']);
    within(acc.machines[0]!.joules, box);
    within(acc.machines[1]!.joules, w2);
    within(acc.totalJoules, box + w2);
    within(baseline.machines.box!.watts, BOX.low);
    within(acc.dynamicJoules, (BOX.high - BOX.low + W2.high - W2.low) * T, 0.02);
    // Scaphandre's host counter adds the dram domain: the difference is the dram energy.
    within(accounts.scaphandre!.run.totalJoules! - acc.totalJoules!, (BOX.dram + W2.dram) * T, 0.05);
    console.log(`RAPL run window: written ${(box + w2).toFixed(2)} J, accounted ${acc.totalJoules!.toFixed(2)} J (${((100 * (acc.totalJoules! - box - w2)) / (box + w2)).toFixed(3)} %)`);
  }, 90_000);

  it('the CPU model: estimated, one estimate per machine (50 W each at 75 % of 20–60 W)', async () => {
    const model = new ModelSource(prom, SCRAPE, { default: { idleWatts: 20, maxWatts: 60 } });
    const { run: acc } = await twoWindows([model]);
    const T = len(runWindow);
    expect(acc.kind).toBe('estimated');
    expect(acc.machines.every((m) => m.kind === 'estimated' && m.source === 'model')).toBe(true);
    within(acc.machines[0]!.joules, 50 * T);
    within(acc.totalJoules, 2 * 50 * T); // two machines, not three hosts
    console.log(`model run window: by hand 2 × 50 W × ${T.toFixed(1)} s = ${(100 * T).toFixed(2)} J, accounted ${acc.totalJoules!.toFixed(2)} J (estimated)`);
    // Idle from a model baseline over the same utilisation: dynamic ≈ 0.
    within(acc.idleJoules, 2 * 50 * T);
    expect(Math.abs(acc.dynamicJoules!)).toBeLessThan(0.01 * acc.totalJoules!);
  }, 90_000);

  it('with every source listed, Scaphandre is preferred and the others are kept as alternatives', async () => {
    const acc = await energyAccount([new ScaphandreSource(prom, SCRAPE), new RaplSource(prom, SCRAPE), new ModelSource(prom, SCRAPE)], onMachines(), runWindow);
    expect(acc.sources).toEqual(['scaphandre']);
    expect(acc.machines[0]!.alternatives.map((a) => a.source)).toEqual(['rapl:package', 'model']);
    expect(acc.baseline.status).toBe('none');
    expect(acc.baseline.notes[0]).toMatch(/entrypoint baseline/);
  }, 60_000);

  it('a second deploy changes nothing (Scaphandre, node_exporter, Prometheus roles idempotent)', async () => {
    const out = await run('deploy');
    for (const n of ['control-1', 'worker-1', 'worker-2']) expect(recapChanged(out, n), out.slice(-3000)).toBe(0);
  }, SLOW);
});
