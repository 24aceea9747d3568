/**
 * The ingest experiment for real, on one shared local cluster (3 Kafka brokers, 2 workers, control
 * with Prometheus): `entrypoint setup` once, then `entrypoint ingest` runs as a user types them
 * (real ansible-playbook, real generators on the worker namespaces, real Kafka), and the run records
 * and CSV they leave. Bad parameters are refused before anything runs. Ctrl-C and a killed broker
 * end in saved records within a bound, with no generator left. `killjob` in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { RunRecord } from '../../src/runs/record.js';

if (process.getuid?.() !== 0) throw new Error('ingest integration tests must run as root (network namespaces, Kafka, sshd)');

const ROOT = resolve(import.meta.dirname, '../..');
// A fresh folder per run: state, results and the experiment file of this test only.
const HOME = mkdtempSync(join(tmpdir(), 'gr-ingest-'));
const EXP = 'ingtest';
const ENTRY = join(ROOT, 'dist/entrypoint.js');
const env = { ...process.env, GREENRACE_HOME: HOME, NO_COLOR: '1' };
const cli = (args: string[], opts: { timeout?: number } = {}) => execa(process.execPath, [ENTRY, ...args], { cwd: HOME, env, reject: false, timeout: opts.timeout ?? 900_000 });
const resultsDir = join(HOME, 'results', EXP);
const records = (): RunRecord[] =>
  existsSync(resultsDir)
    ? readdirSync(resultsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(resultsDir, d.name, 'run.json')))
        .map((d) => JSON.parse(readFileSync(join(resultsDir, d.name, 'run.json'), 'utf8')) as RunRecord)
    : [];
const promUrl = (): string =>
  (JSON.parse(readFileSync(join(HOME, '.greenrace', EXP, 'state.json'), 'utf8')) as { endpoints: Record<string, string> }).endpoints.prometheus_url!;
const promQuery = async (query: string, time: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
  const r = await fetch(`${promUrl()}/api/v1/query?${new URLSearchParams({ query, time: String(time) })}`);
  return ((await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
};
const csvLines = (): string[] => (existsSync(join(resultsDir, 'runs.csv')) ? readFileSync(join(resultsDir, 'runs.csv'), 'utf8').trim().split('\n') : []);
const loadgenProcs = async (): Promise<string[]> =>
  (await execa('pgrep', ['-af', `entrypoint.js loadgen`], { reject: false })).stdout
    .split('\n')
    .filter((l) => l.includes(join(HOME, '.greenrace')) || l.includes('--instance worker-'))
    .filter(Boolean);

describe('ingest on a local Kafka cluster (3 brokers, 2 workers)', () => {
  beforeAll(async () => {
    mkdirSync(join(HOME, 'experiments'), { recursive: true });
    writeFileSync(
      join(HOME, 'experiments', `${EXP}.yaml`),
      [
        'platform: {kind: local}',
        'roles: {control: 1, broker: 3, worker: 2}',
        'services: [node_exporter, prometheus, pushgateway, kafka]',
        'monitoring: {scrape_interval: 2s}',
        'energy: {model: {idle_watts: 20, max_watts: 60}}',
        'kafka: {replication_factor: 3, min_insync_replicas: 2, partitions: 6, heap: 384m}',
        'ingest: {load: 5000, message_size: 1024, instances: 2, partitions: 6, duration: 30s, warmup: 5s, acks: all}',
        '',
      ].join('\n'),
    );
    const r = await cli(['setup', EXP], { timeout: 1_200_000 });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
  }, 1_300_000);

  afterAll(async () => {
    const r = await cli(['killjob', EXP], { timeout: 600_000 });
    if (r.exitCode === 0) rmSync(HOME, { recursive: true, force: true });
  }, 700_000);

  it('rejects bad parameters before anything runs', async () => {
    const before = records().length;
    const cases: Array<[string[], RegExp]> = [
      [['--load', '-5'], /--load/],
      [['--message_size', '0'], /--message_size/],
      // The schema's ceiling (10,000) is met before the per-broker one (3 × 4,000): either names the flag.
      [['--partitions', '20000'], /--partitions.*(more than allowed|must be at most)/],
      [['--broker', 'pulsar'], /ingest\.broker|--broker/],
      [['--broker', 'redpanda'], /redpanda but this experiment deployed kafka/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(['ingest', EXP, ...args], { timeout: 60_000 });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(records().length).toBe(before);
  });

  it('a 30 s run at 5,000 msg/s of 1 KiB achieves the target within 5 % and records latency, energy and msg/J; a second run appends to the CSV', async () => {
    const r1 = await cli(['ingest', EXP]);
    expect(r1.exitCode, r1.stderr.slice(-3000)).toBe(0);
    expect(r1.stdout).toMatch(/achieved rate/);
    const rec = records().find((r) => r.status === 'completed')!;
    const res = rec.results as Record<string, any>;
    expect(res.achieved_rate).toBeGreaterThan(5000 * 0.95);
    expect(res.achieved_rate).toBeLessThan(5000 * 1.05);
    for (const k of ['p50', 'p95', 'p99', 'p999', 'max']) expect(res.latency_ms[k]).toBeGreaterThan(0);
    expect(res.latency_ms.p50).toBeLessThanOrEqual(res.latency_ms.p99);
    expect(res.energy_j).toBeGreaterThan(0);
    expect(rec.energy?.sources.length).toBeGreaterThan(0);
    expect(res.msg_per_j).toBeCloseTo(res.messages_acked / res.energy_j, 2);
    expect(rec.window!.end - rec.window!.start).toBeGreaterThan(29);
    expect(readFileSync(join(resultsDir, rec.id, 'manifest.yaml'), 'utf8')).toMatch(/generators:/);
    // Prometheus scraped both generators during the measurement window (file_sd job greenrace_loadgen,
    // labelled with the run id), and their targets are gone once the run is over.
    const w = rec.window!;
    const scraped = await promQuery(
      `max by (generator, host) (max_over_time(greenrace_loadgen_messages_acked_total{job="greenrace_loadgen",run_id="${rec.id}",phase="measure"}[${Math.floor(w.end - w.start)}s]))`,
      w.end,
    );
    expect(scraped.map((s) => s.metric.generator).sort()).toEqual(['worker-1-0', 'worker-2-0']);
    for (const s of scraped) expect(Number(s.value[1])).toBeGreaterThan(0);
    // Withdrawn at the run's end; Prometheus applies service-discovery changes at most every 5 s, so
    // the job's targets leave its list within seconds of the command's return.
    const loadgenTargets = async () =>
      ((await (await fetch(`${promUrl()}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ labels: Record<string, string> }> } }).data.activeTargets.filter(
        (t) => t.labels.job === 'greenrace_loadgen',
      );
    for (let i = 0; i < 30 && (await loadgenTargets()).length > 0; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await loadgenTargets()).toEqual([]);
    const lines1 = csvLines().length;
    expect(lines1).toBe(2);
    // Before the generators started, each broker host's dirty pages were written back (ingest.sync_brokers).
    const brokerHosts = rec.hosts!.filter((h) => h.roles.includes('broker')).map((h) => h.name).sort();
    expect(brokerHosts).toHaveLength(3);
    expect(Object.keys(res.broker_sync).sort()).toEqual(brokerHosts);
    for (const b of brokerHosts) {
      expect(r1.stderr).toMatch(new RegExp(`sync on ${b}: .* of dirty pages written back in [0-9.]+ s`));
      expect(res.broker_sync[b].seconds).toBeGreaterThanOrEqual(0);
    }
    // 35 s of writes (5 s warm-up + 30 s) outlast the kernel's dirty expiry (vm.dirty_expire_centisecs,
    // 30 s by default): not absorbed by the page cache alone. Every acked byte is counted, replicas too.
    const expire = Number(readFileSync('/proc/sys/vm/dirty_expire_centisecs', 'utf8')) / 100;
    const pc1 = res.page_cache;
    expect(pc1.expireSeconds).toBe(expire);
    expect(pc1.seconds).toBeGreaterThan(34);
    expect(pc1.absorbed).toBe(pc1.seconds >= expire ? false : pc1.bytesPerBroker < pc1.thresholdBytes);
    const rf = rec.parameters.replication_factor as number;
    expect(pc1.bytesPerBroker).toBeGreaterThanOrEqual(Math.floor((res.messages_acked * 1024 * rf) / 3));
    expect(pc1.bytesPerBroker).toBeLessThan(((res.messages_acked * 1024 * rf) / 3) * 1.25);
    const r2 = await cli(['ingest', EXP, '--duration', '10s', '--warmup', '2s']);
    expect(r2.exitCode, r2.stderr.slice(-3000)).toBe(0);
    expect(csvLines().length).toBe(3);
    expect(await loadgenProcs()).toEqual([]);
    // 12 s of 5,000 msg/s of 1 KiB, about 61 MB per broker with replicas, fits in the page cache: the run says so.
    const rec2 = records().find((r) => r.status === 'completed' && r.parameters.duration === 10)!;
    const pc2 = (rec2.results as Record<string, any>).page_cache;
    expect(pc2.bytesPerBroker).toBeLessThan(100e6);
    expect(pc2.absorbed).toBe(true);
    expect(r2.stderr).toMatch(/note: about \d+ MB per broker in [0-9.]+ s, under its background writeback threshold/);
  });

  it('the perf-test driver runs on the same cluster into the same record shape', async () => {
    const r = await cli(['ingest', EXP, '--driver', 'perf-test', '--load', '2000', '--duration', '20s', '--warmup', '5s']);
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    const rec = records().find((x) => x.parameters.driver === 'perf-test')!;
    const res = rec.results as Record<string, any>;
    expect(res.messages_acked).toBeGreaterThan(0);
    expect(res.latency_basis).toMatchObject({ loop: 'closed', from: 'send' });
    expect(res.generators.length).toBe(2);
    // The tool prints its percentiles only when it finishes its records. On a starved host it falls
    // behind its rate and is stopped at the end of the run plus its grace before that line: then,
    // and only then, its percentiles are absent (null, printed —), never 0, and the record says why.
    for (const g of res.generators) {
      expect(g.driver).toBe('perf-test');
      expect(g.acked).toBeGreaterThan(0);
      if (g.latency_ms.p99 === null) {
        expect(g.saturated, `${g.id}: percentiles missing although not saturated`).toBe(true);
        expect(g.unsent).toBeGreaterThan(0);
        expect([g.latency_ms.p50, g.latency_ms.p95, g.latency_ms.p999]).toEqual([null, null, null]);
        expect(g.latency_ms.max).toBeGreaterThan(0);
        expect((g.notes ?? []).join(' ')).toMatch(/percentiles unavailable/);
      } else {
        for (const k of ['p50', 'p95', 'p99', 'p999', 'max']) expect(g.latency_ms[k], `${g.id} ${k}`).toBeGreaterThan(0);
        expect(g.latency_ms.p50).toBeLessThanOrEqual(g.latency_ms.p99);
      }
    }
    // Merged: the percentiles of the instances that have them (labelled), else none.
    const withP99 = res.generators.filter((g: any) => g.latency_ms.p99 !== null);
    if (withP99.length) expect(res.latency_ms.p99).toBe(Math.max(...withP99.map((g: any) => g.latency_ms.p99)));
    else {
      expect(res.latency_ms.p99).toBeNull();
      expect(res.saturated).toBe(true);
      expect(r.stdout).toMatch(/latency p50 \/ p95 \/ p99[^\n]*— \/ — \/ — ms/);
    }
  });

  it('Ctrl-C during a run stops every generator, deletes the topic and saves the record as aborted', async () => {
    const before = new Set(records().map((r) => r.id));
    const child: ResultPromise = execa(process.execPath, [ENTRY, 'ingest', EXP, '--duration', '120s'], { cwd: HOME, env, reject: false });
    // Wait until the generators produce, then interrupt.
    const t0 = Date.now();
    // Stop waiting when the command has already ended (a failing start would otherwise hold the test for 10 minutes).
    let ended = false;
    void child.then(() => (ended = true));
    while (!ended && Date.now() - t0 < 600_000 && (await loadgenProcs()).length < 2) await new Promise((r) => setTimeout(r, 1000));
    expect(ended, 'the ingest command ended before its generators ran').toBe(false);
    await new Promise((r) => setTimeout(r, 8000));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    const rec = records().find((x) => !before.has(x.id))!;
    expect(rec.status).toBe('aborted');
    expect(rec.results).toBeDefined();
    expect(await loadgenProcs()).toEqual([]);
  });

  it('killing a broker during a run ends it with an error within a bound, record saved', async () => {
    const before = new Set(records().map((r) => r.id));
    const child: ResultPromise = execa(process.execPath, [ENTRY, 'ingest', EXP, '--duration', '120s'], { cwd: HOME, env, reject: false });
    const t0 = Date.now();
    // Stop waiting when the command has already ended (a failing start would otherwise hold the test for 10 minutes).
    let ended = false;
    void child.then(() => (ended = true));
    while (!ended && Date.now() - t0 < 600_000 && (await loadgenProcs()).length < 2) await new Promise((r) => setTimeout(r, 1000));
    expect(ended, 'the ingest command ended before its generators ran').toBe(false);
    await new Promise((r) => setTimeout(r, 8000));
    // The broker of broker-3: its pidfile is under that host's data dir.
    const pidFile = join(HOME, '.greenrace', EXP, 'hosts', 'broker-3', 'kafka', 'kafka.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    const r = await child;
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toMatch(/broker .* stopped answering/);
    expect(Date.now() - killedAt).toBeLessThan(400_000);
    const rec = records().find((x) => !before.has(x.id))!;
    expect(rec.status).toBe('failed');
    expect(rec.error?.code).toBe('ingest.broker_down');
    expect(await loadgenProcs()).toEqual([]);
  });
});
