/**
 * A sweep over a factor that changes what `setup` deployed: the Kafka broker count (roles.broker 1
 * vs 2) × 2 partition counts, 1 repetition, on the local platform with the real Kafka. The
 * experiment is not set up before: the sweep sets it up for the first broker count, makes it again
 * (killjob, setup) for the second, and takes it down at the end (what it created, it removes). Each
 * run says which setup it ran on, and the cluster really had that many brokers: Kafka's own
 * metadata (sweep.json's setups) and the run record's bootstrap list. Running the same sweep again
 * skips the done points and sets nothing up. `killjob` in afterAll whatever happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { RunRecord } from '../../src/runs/record.js';

if (process.getuid?.() !== 0) throw new Error('campaign integration tests must run as root (network namespaces, Kafka, sshd)');

const ROOT = resolve(import.meta.dirname, '../..');
const HOME = mkdtempSync(join(tmpdir(), 'gr-campsetup-'));
const EXP = 'campsetup';
const ENTRY = join(ROOT, 'dist/entrypoint.js');
const env = { ...process.env, GREENRACE_HOME: HOME, NO_COLOR: '1' };
const cli = (args: string[], opts: { timeout?: number } = {}) => execa(process.execPath, [ENTRY, ...args], { cwd: HOME, env, reject: false, timeout: opts.timeout ?? 2_400_000 });
const resultsDir = join(HOME, 'results', EXP);
const records = (): Map<string, RunRecord> =>
  new Map(
    readdirSync(resultsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(resultsDir, d.name, 'run.json')))
      .map((d) => JSON.parse(readFileSync(join(resultsDir, d.name, 'run.json'), 'utf8')) as RunRecord)
      .map((r) => [r.id, r]),
  );

interface SweepJson {
  id: string;
  status: string;
  runs: Array<{ pointKey: string; repetition: number; runId: string; status: string; setup?: string }>;
  setups?: Array<{ key: string; label: string; assignments: Record<string, unknown>; how: string; brokers?: Array<{ id: number; address: string }> }>;
  setupLeft?: string;
}

describe('a sweep over the broker count sets the cluster up per count and takes down what it made', () => {
  beforeAll(() => {
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
        'ingest: {load: 500, message_size: 256, instances: 1, partitions: 2, duration: 3s, warmup: 1s, acks: "1"}',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    const r = await cli(['killjob', EXP], { timeout: 600_000 });
    if (r.exitCode === 0) rmSync(HOME, { recursive: true, force: true });
  }, 700_000);

  it('runs each point on its broker count, records it, resumes without setting anything up', async () => {
    const r = await cli(['sweep', EXP, '--grid', 'roles.broker=1,2', '--grid', 'ingest.partitions=1,2', '--repetitions', '1']);
    expect(r.exitCode, r.stderr.slice(-4000)).toBe(0);
    const id = /sweep (sweep-[0-9a-f]+)/.exec(r.stderr)![1]!;
    const s = JSON.parse(readFileSync(join(resultsDir, id, 'sweep.json'), 'utf8')) as SweepJson;
    expect(s.status).toBe('completed');
    // One setup per broker count, in order: set up from nothing, then made again for 2 brokers.
    expect(s.setups?.map((x) => [x.assignments['roles.broker'], x.how])).toEqual([
      [1, 'set up'],
      [2, 'made again'],
    ]);
    // What came up, as Kafka's own metadata lists it.
    for (const x of s.setups!) expect(x.brokers?.filter((b) => b.id >= 0)).toHaveLength(x.assignments['roles.broker'] as number);
    const recs = records();
    const completed = s.runs.filter((x) => x.status === 'completed');
    expect(completed).toHaveLength(4);
    for (const run of completed) {
      const n = Number(/roles\.broker=(\d+)/.exec(run.pointKey)![1]);
      const setup = s.setups!.find((x) => x.key === run.setup)!;
      expect(setup.assignments['roles.broker']).toBe(n);
      const rec = recs.get(run.runId)!;
      expect(rec.status).toBe('completed');
      expect(rec.campaign).toEqual({ kind: 'sweep', id, point: run.pointKey, repetition: 1 });
      // The run's producers were given every broker of the cluster it ran on.
      expect(String(rec.parameters.bootstrap).split(',')).toHaveLength(n);
      expect(new Set(String(rec.parameters.bootstrap).split(','))).toEqual(new Set(setup.brokers!.map((b) => b.address)));
      expect(rec.parameters.partitions).toBe(Number(/ingest\.partitions=(\d+)/.exec(run.pointKey)![1]));
    }
    // The sweep set the experiment up, so it took it down.
    expect(s.setupLeft).toMatch(/taken it down/);
    expect(existsSync(join(HOME, '.greenrace', EXP, 'state.json'))).toBe(false);

    // The same sweep again: every point done, nothing set up.
    const again = await cli(['sweep', EXP, '--grid', 'roles.broker=1,2', '--grid', 'ingest.partitions=1,2', '--repetitions', '1']);
    expect(again.exitCode, again.stderr.slice(-3000)).toBe(0);
    expect(again.stderr).toContain('resuming: 4 done, 0 left');
    expect(again.stderr).not.toMatch(/setting up|killjob, then setup/);
    const s2 = JSON.parse(readFileSync(join(resultsDir, id, 'sweep.json'), 'utf8')) as SweepJson;
    expect(s2.setups).toHaveLength(2);
  }, 3_600_000);
});
