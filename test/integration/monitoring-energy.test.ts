/**
 * The RAPL and model energy paths for real: node_exporter (deployed by the real Ansible roles) reads
 * a powercap tree and a /proc/stat that this test writes and advances; a real Prometheus scrapes it
 * every second; the energy account must match the joules written within 1 %, across counter wraps.
 * Also: the Prometheus client against the real server (errors name the query), and a run window
 * pushed to the Pushgateway and read back through Prometheus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient } from '../../src/metrics/prometheus.js';
import { RunWindowMarker, windowFromPrometheus } from '../../src/metrics/window.js';
import { RaplSource } from '../../src/metrics/energy/rapl.js';
import { ModelSource, modelJoules } from '../../src/metrics/energy/model.js';
import { ScaphandreSource } from '../../src/metrics/energy/scaphandre.js';
import { energyAccount } from '../../src/metrics/energy/account.js';
import { RunError } from '../../src/core/errors.js';
import { loopbackStack, recapChanged, writeAtomic, type LoopbackStack } from './monitoring-stack.js';

if (process.getuid?.() !== 0) throw new Error('monitoring integration tests must run as root (they start exporters and Prometheus)');

const RANGE_UJ = 150_000_000; // 150 J: wraps every few seconds at the powers below
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('energy from a real node_exporter + Prometheus on loopback', () => {
  let dir: string;
  let stack: LoopbackStack;
  let prom: PrometheusClient;
  let timer: NodeJS.Timeout | undefined;
  let t0 = 0;
  /** Package power written into the fixture, W, as a function of epoch seconds. */
  const power = (t: number): number => (t - t0 < 12 ? 40 : 65);
  /** Joules written from t0 to t (exact integral of `power`). */
  const energyTo = (t: number): number => (t - t0 < 12 ? 40 * (t - t0) : 40 * 12 + 65 * (t - t0 - 12));
  const ticksPerSecond = 100; // USER_HZ
  const busy = [1, 0.5]; // cpu0 fully busy, cpu1 half busy: mean utilisation 0.75

  const zone = (root: string) => join(root, 'class/powercap/intel-rapl:0');
  const writeFixtures = (root: string, procRoot: string, t: number) => {
    const e = energyTo(t) * 1e6;
    writeAtomic(join(zone(root), 'energy_uj'), `${Math.floor(e % RANGE_UJ)}\n`);
    const s = (t - t0) * ticksPerSecond + 1000;
    const cpus = busy.map((b) => ({ user: Math.floor(b * s), idle: Math.floor((1 - b) * s) }));
    const all = cpus.reduce((a, c) => ({ user: a.user + c.user, idle: a.idle + c.idle }), { user: 0, idle: 0 });
    const line = (n: string, c: { user: number; idle: number }) => `${n} ${c.user} 0 0 ${c.idle} 0 0 0 0 0 0`;
    writeAtomic(
      join(procRoot, 'stat'),
      [line('cpu ', all), ...cpus.map((c, i) => line(`cpu${i}`, c)), 'intr 0', 'ctxt 0', 'btime 1700000000', 'processes 1', 'procs_running 1', 'procs_blocked 0', ''].join('\n'),
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gr-mon-energy-'));
    const sys = join(dir, 'sys');
    const proc = join(dir, 'proc');
    mkdirSync(zone(sys), { recursive: true });
    mkdirSync(proc, { recursive: true });
    writeFileSync(join(zone(sys), 'name'), 'package-0\n');
    writeFileSync(join(zone(sys), 'max_energy_range_uj'), `${RANGE_UJ}\n`);
    t0 = Date.now() / 1000;
    writeFixtures(sys, proc, t0);
    timer = setInterval(() => writeFixtures(sys, proc, Date.now() / 1000), 20);
    stack = loopbackStack(join(dir, 'stack'), 29110, { sysfs: sys, procfs: proc, scrapeInterval: 1 });
    const out = await stack.run('deploy');
    expect(recapChanged(out, 'monlo')).toBeGreaterThan(0);
    prom = new PrometheusClient(stack.promUrl);
    await prom.waitForTargets({ timeoutMs: 30_000, minTargets: 3 });
    // The timeline starts once Prometheus scrapes: the counter drops once here (a reset, before any window).
    t0 = Date.now() / 1000;
  });

  afterAll(async () => {
    if (timer) clearInterval(timer);
    try {
      const out = await stack?.run('destroy');
      if (out) expect(out).toMatch(/failed=0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('RAPL joules match the joules written within 1 %, across counter wraps', async () => {
    // A window spanning the power step and several wraps (150 J range at 40-65 W: one every 2-4 s).
    const window = { start: t0 + 6, end: t0 + 22 };
    const wait = window.end + 3 - Date.now() / 1000;
    if (wait > 0) await sleep(wait * 1000);
    const truth = energyTo(window.end) - energyTo(window.start);
    const [h] = await new RaplSource(prom, 1).measure({ hosts: [{ name: 'monlo', address: '127.0.0.1' }], window });
    expect(h!.source).toBe('rapl:package');
    expect(h!.joules).not.toBeNull();
    console.log(`RAPL: written ${truth.toFixed(2)} J, accounted ${h!.joules!.toFixed(2)} J (${((100 * (h!.joules! - truth)) / truth).toFixed(3)} %), ${h!.coverage.resets} wraps, ${h!.coverage.samples} samples`);
    expect(Math.abs(h!.joules! - truth) / truth).toBeLessThan(0.01);
    expect(h!.coverage.resets).toBeGreaterThanOrEqual(3);
    expect(h!.coverage.fraction).toBeGreaterThan(0.9);
    expect(h!.coverage.samples).toBeGreaterThanOrEqual(12);
    expect(power(window.start)).toBe(40);
  });

  it('the model path matches a hand computation for a known CPU load', async () => {
    const window = { start: t0 + 6, end: t0 + 22 };
    const wait = window.end + 3 - Date.now() / 1000;
    if (wait > 0) await sleep(wait * 1000);
    const src = new ModelSource(prom, 1, { default: { idleWatts: 100, maxWatts: 200 } });
    const [h] = await src.measure({ hosts: [{ name: 'monlo', address: '127.0.0.1' }], window });
    // By hand: u = (1 + 0.5) / 2 = 0.75 → P = 100 + 100 × 0.75 = 175 W over 16 s = 2800 J.
    const hand = 175 * 16;
    expect(modelJoules({ idleWatts: 100, maxWatts: 200 }, 0.75, 16)).toBe(hand);
    expect(h!.kind).toBe('estimated');
    console.log(`model: hand ${hand} J, accounted ${h!.joules!.toFixed(2)} J (${((100 * (h!.joules! - hand)) / hand).toFixed(3)} %)`);
    expect(Math.abs(h!.joules! - hand) / hand).toBeLessThan(0.01);
    expect(h!.note).toMatch(/75\.\d % of 2 CPUs/);
  });

  it('the account picks RAPL over the model, falls back past a missing Scaphandre, and computes dynamic energy', async () => {
    const window = { start: t0 + 6, end: t0 + 22 };
    const hosts = [{ name: 'monlo', address: '127.0.0.1' }];
    const acc = await energyAccount([new ScaphandreSource(prom, 1), new RaplSource(prom, 1), new ModelSource(prom, 1)], hosts, window, {
      baseline: { schema: 'greenrace.baseline/1', experiment: 'montest', measuredAt: '', window, hosts: { monlo: { watts: 30, source: 'rapl:package', kind: 'measured', coverage: 1 } } },
    });
    const truth = energyTo(window.end) - energyTo(window.start);
    expect(acc.sources).toEqual(['rapl:package']);
    expect(Math.abs(acc.totalJoules! - truth) / truth).toBeLessThan(0.01);
    expect(Math.abs(acc.dynamicJoules! - (truth - 30 * 16)) / (truth - 30 * 16)).toBeLessThan(0.02);
    const alt = acc.hosts[0]!.alternatives.map((a) => a.source);
    expect(alt).toEqual(['scaphandre', 'model']);
    expect(acc.hosts[0]!.alternatives[0]!.note).toMatch(/scaphandre not running/);
  });

  it('query errors name the query and the reason', async () => {
    const bad = 'sum(rate(node_cpu_seconds_total[5m]'; // unbalanced
    const e = await prom.query(bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).code).toBe('metrics.query');
    expect((e as RunError).message).toContain(bad);
    expect((e as RunError).message).toMatch(/bad_data|parse error/);
    const down = await new PrometheusClient('http://127.0.0.1:29999', { timeoutMs: 2000 }).query('up').catch((x: unknown) => x);
    expect((down as RunError).code).toBe('metrics.unreachable');
    expect((down as RunError).message).toMatch(/"up".*refused the connection/);
    const up = await prom.queryVector('up');
    expect(up.map((u) => u.metric.job).sort()).toEqual(['node', 'prometheus', 'pushgateway']);
    expect(up.every((u) => u.value[1] === 1)).toBe(true);
    expect(up[0]!.metric.experiment).toBeUndefined(); // external labels are for federation/remote write, not local queries
  });

  it('a run window pushed to the Pushgateway is read back through Prometheus', async () => {
    const m = new RunWindowMarker({ runId: 'run-0001-abc', experiment: 'montest', kind: 'ingest' }, stack.pushUrl);
    const now = Date.now() / 1000;
    await m.warmup(now - 10);
    await m.start(now - 5);
    const w = await m.end(now);
    expect(m.pushErrors).toEqual([]);
    expect(w).toEqual({ warmupStart: now - 10, start: now - 5, end: now });
    let back;
    for (let i = 0; i < 20 && !back; i++) {
      back = await windowFromPrometheus(prom, 'run-0001-abc').catch(() => undefined);
      if (!back) await sleep(500);
    }
    expect(back).toBeDefined();
    expect(back!.start).toBeCloseTo(now - 5, 3);
    expect(back!.end).toBeCloseTo(now, 3);
    expect(back!.warmupStart).toBeCloseTo(now - 10, 3);
    const info = await prom.queryVector('greenrace_run_info{run_id="run-0001-abc"}');
    expect(info[0]!.metric).toMatchObject({ experiment: 'montest', kind: 'ingest', job: 'greenrace_run' });
  });

  it('a second deploy changes nothing (ansible changed=0)', async () => {
    expect(recapChanged(await stack.run('deploy'), 'monlo')).toBe(0);
  });
});
