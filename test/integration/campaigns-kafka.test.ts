/**
 * Campaigns for real on one small local Kafka cluster (1 broker, 1 worker, Prometheus): a sweep
 * declared in the experiment file is interrupted with Ctrl-C after its first run and resumed by the
 * same command without redoing what was done, then reported; a search runs short trials against
 * the real broker and links every trial's run record. Short runs (1 s warm-up, 3 s measured) keep
 * the file to a few minutes after setup; `killjob` in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { RunRecord } from '../../src/runs/record.js';

if (process.getuid?.() !== 0) throw new Error('campaign integration tests must run as root (network namespaces, Kafka, sshd)');

const ROOT = resolve(import.meta.dirname, '../..');
const HOME = mkdtempSync(join(tmpdir(), 'gr-campaigns-'));
const EXP = 'camptest';
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
const loadgenProcs = async (): Promise<string[]> =>
  (await execa('pgrep', ['-af', 'entrypoint.js loadgen'], { reject: false })).stdout
    .split('\n')
    .filter((l) => l.includes(join(HOME, '.greenrace')) || l.includes(HOME))
    .filter(Boolean);

interface SweepJson {
  id: string;
  status: string;
  total: number;
  runs: Array<{ pointKey: string; repetition: number; runId: string; status: string }>;
  points: Array<{ key: string; stats: { throughput?: { n: number; mean: number | null } } }>;
}

describe('campaigns on a local Kafka cluster (1 broker, 1 worker)', () => {
  beforeAll(async () => {
    mkdirSync(join(HOME, 'experiments'), { recursive: true });
    writeFileSync(
      join(HOME, 'experiments', `${EXP}.yaml`),
      [
        'platform: {kind: local}',
        'roles: {control: 1, broker: 1, worker: 1}',
        'services: [node_exporter, prometheus, kafka]',
        'monitoring: {scrape_interval: 2s}',
        'energy: {model: {idle_watts: 20, max_watts: 60}}',
        'kafka: {replication_factor: 1, min_insync_replicas: 1, partitions: 2, heap: 384m}',
        'ingest: {load: 1000, message_size: 512, instances: 1, partitions: 1, duration: 3s, warmup: 1s, acks: "1"}',
        // The sweep is declared here: 2 message sizes × 1 partition count × 2 repetitions = 4 runs.
        'sweep:',
        '  factors:',
        '    ingest.message_size: [256, 1024]',
        '  repetitions: 2',
        'search:',
        '  trial_warmup: 1s',
        '  trial_duration: 3s',
        // A short cool-down after a failing trial (the default, 60 s, is what this machine's Kafka needs).
        '  cooldown: 2s',
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

  it('a sweep interrupted by Ctrl-C resumes with the same command without redoing done runs, then reports', async () => {
    // First invocation: interrupt once the first run is done.
    const child: ResultPromise = execa(process.execPath, [ENTRY, 'sweep', EXP], { cwd: HOME, env, reject: false });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    let ended = false;
    void child.then(() => (ended = true));
    const t0 = Date.now();
    while (!ended && Date.now() - t0 < 600_000 && !/^done: /m.test(out)) await new Promise((r) => setTimeout(r, 500));
    expect(ended, `the sweep ended before its first run was done: ${out}`).toBe(false);
    child.kill('SIGINT');
    const first = await child;
    expect(first.exitCode, first.stderr.slice(-2000)).toBe(130);
    expect(first.stderr).toMatch(/sweep sweep-[0-9a-f]+ stopped: \d+ of 4 runs done, \d+ left; run the same command again to resume/);

    const id = /sweep (sweep-[0-9a-f]+)/.exec(first.stderr)![1]!;
    const path = join(resultsDir, id, 'sweep.json');
    const afterStop = JSON.parse(readFileSync(path, 'utf8')) as SweepJson;
    expect(afterStop.status).toBe('aborted');
    const doneBefore = afterStop.runs.filter((r) => r.status === 'completed');
    expect(doneBefore.length).toBeGreaterThanOrEqual(1);
    expect(doneBefore.length).toBeLessThan(4);
    // Every run the sweep started says so in its record, the interrupted one included; none stays running.
    const tagged = records().filter((r) => r.campaign?.id === id);
    expect(tagged.every((r) => r.campaign?.kind === 'sweep' && r.campaign.point && r.campaign.repetition)).toBe(true);
    expect(tagged.map((r) => r.status)).not.toContain('running');
    expect(await loadgenProcs()).toEqual([]);

    // The same command resumes.
    const second = await cli(['sweep', EXP]);
    expect(second.exitCode, second.stderr.slice(-3000)).toBe(0);
    expect(second.stderr).toContain(`resuming: ${doneBefore.length} done, ${4 - doneBefore.length} left`);
    const final = JSON.parse(readFileSync(path, 'utf8')) as SweepJson;
    expect(final.status).toBe('completed');
    const completed = final.runs.filter((r) => r.status === 'completed');
    expect(completed).toHaveLength(4);
    // Runs done before the interruption are kept, not redone: each (point, repetition) once.
    for (const d of doneBefore) expect(completed.filter((c) => c.pointKey === d.pointKey && c.repetition === d.repetition).map((c) => c.runId)).toEqual([d.runId]);
    expect(new Set(completed.map((c) => `${c.pointKey}#${c.repetition}`)).size).toBe(4);
    // Each completed run is a normal run record tagged with its point and repetition, with a throughput.
    const byId = new Map(records().map((r) => [r.id, r]));
    for (const c of completed) {
      const rec = byId.get(c.runId)!;
      expect(rec.status).toBe('completed');
      expect(rec.campaign).toEqual({ kind: 'sweep', id, point: c.pointKey, repetition: c.repetition });
      expect(rec.parameters.message_size).toBe(Number(/message_size=(\d+)/.exec(c.pointKey)![1]));
    }
    expect(final.points.map((p) => p.stats.throughput?.n)).toEqual([2, 2]);
    const csv = readFileSync(join(resultsDir, id, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);

    // The report of this sweep.
    const rep = await cli(['report', EXP, '--sweep', id, '--open']);
    expect(rep.exitCode, rep.stderr.slice(-2000)).toBe(0);
    expect(rep.stdout).toMatch(/open it with a browser: file:\/\//);
    const html = readFileSync(/^report: (\S+) \(/m.exec(rep.stdout)![1]!, 'utf8');
    expect(html).toContain(id);
    expect(html).toContain('<svg');
  }, 1_800_000);

  it('a search runs short trials against the real broker, each a tagged run record linked from search.json', async () => {
    // From 20,000 msg/s the knee's ramp climbs to the 1,000,000 msg/s max load: past this 2-core machine's knee.
    const r = await cli(['search', EXP, '--start', '20000', '--max-trials', '2', '--precision', '0.2']);
    expect([0, 5], r.stderr.slice(-3000)).toContain(r.exitCode);
    const trialLines = r.stdout.split('\n').filter((l) => /^trial \d+: target /.test(l));
    expect(trialLines.length).toBe(2);
    const id = /(search-\d{8}-\d{6}-[0-9a-f]{4})/.exec(r.stderr + r.stdout)![1]!;
    const s = JSON.parse(readFileSync(join(resultsDir, id, 'search.json'), 'utf8')) as {
      status: string;
      trials: Array<{ n: number; kind: 'fixed' | 'ramp'; target: number; achieved: number | null; pass: boolean; runId: string; run: string; cooledS?: number; steps?: Array<{ target: number; achieved: number | null }> }>;
      trial: { coolDownS: number };
      result?: { capacity: number | null; bracket: { low: number | null; high: number | null }; pageCache?: { trial: number; absorbed: boolean; bytesPerBroker: number } };
    };
    expect(s.status).toBe('completed');
    expect(s.trials).toHaveLength(trialLines.length);
    // After a failing trial the search waited search.cooldown before the next one, said so, and recorded it.
    expect(s.trial.coolDownS).toBe(2);
    expect(s.trials[0]).toMatchObject({ kind: 'ramp', pass: false });
    for (const [k, t] of s.trials.entries()) {
      const prevFailed = k > 0 && !s.trials[k - 1]!.pass;
      expect(t.cooledS).toBe(prevFailed ? 2 : undefined);
      expect(r.stderr.includes(`cooling down 2 s before trial ${t.n}:`)).toBe(prevFailed);
    }
    for (const t of s.trials) {
      const rec = JSON.parse(readFileSync(join(resultsDir, id, t.run), 'utf8')) as RunRecord;
      expect(rec.campaign).toEqual({ kind: 'search', id, trial: t.n });
      expect(t.achieved).not.toBeNull();
      // Every trial starts with the broker's dirty pages written back, and says whether its writes stayed in the page cache.
      const res = rec.results as { broker_sync: Record<string, { seconds: number }>; page_cache: { absorbed: boolean; bytesPerBroker: number } };
      expect(Object.keys(res.broker_sync)).toEqual(rec.hosts!.filter((h) => h.roles.includes('broker')).map((h) => h.name));
      expect(typeof res.page_cache.absorbed).toBe('boolean');
      if (s.result?.pageCache?.trial === t.n) expect(s.result.pageCache).toMatchObject({ absorbed: res.page_cache.absorbed, bytesPerBroker: res.page_cache.bytesPerBroker });
      if (t.kind === 'fixed') {
        expect(rec.parameters.load).toBeCloseTo(t.target, 0);
        continue;
      }
      // The knee's first trial is one ramp inside one run: its steps in the record, each with its achieved rate.
      const ramp = rec.parameters.ramp as Array<{ load: number }>;
      expect(ramp.map((x) => x.load)).toEqual(t.steps!.map((x) => x.target));
      expect(ramp[ramp.length - 1]!.load).toBeCloseTo(t.target, 0);
      const steps = (rec.results as { steps: Array<{ target: number; achieved_rate: number }> }).steps;
      expect(steps).toHaveLength(ramp.length);
      for (const [k, x] of steps.entries()) {
        expect(x.target).toBeCloseTo(ramp[k]!.load, 0);
        expect(x.achieved_rate).toBe(t.steps![k]!.achieved);
      }
    }
    // The capacity is a load that was measured to pass, and the bracket is consistent with the trials.
    const cap = s.result?.capacity ?? null;
    if (cap !== null) expect(s.trials.some((t) => t.pass && t.target === cap)).toBe(true);
    // The page-cache verdict of the trial that passed at the capacity is in the search's result.
    if (cap !== null) {
      const pt = s.trials.find((t) => t.n === s.result!.pageCache!.trial)!;
      expect(pt.kind === 'fixed' ? pt.pass && pt.target === cap : pt.steps!.some((x) => x.target === cap)).toBe(true);
    }
    const high = s.result?.bracket.high ?? null;
    if (high !== null) expect(s.trials.some((t) => !t.pass && t.target === high)).toBe(true);
  }, 1_200_000);
});
