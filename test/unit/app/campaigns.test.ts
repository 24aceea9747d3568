/**
 * Bad campaign input is refused before anything runs (no cluster needed: the checks load the
 * experiment file only), with one message that names the flag or key.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSweep, runSweep, type SweepOptions } from '../../../src/app/campaigns/sweep.js';
import { prepareSearch, searchCampaign } from '../../../src/app/campaigns/search.js';
import { campaignWorkload } from '../../../src/app/campaigns/workload.js';
import { parseGridFlag } from '../../../src/campaigns/grid.js';

let home: string;
const saved = { ...process.env };
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'gr-campaigns-'));
  mkdirSync(join(home, 'experiments'));
  writeFileSync(join(home, 'experiments', 'camp.yaml'), 'platform:\n  kind: local\nroles: {control: 1, broker: 1, worker: 1}\nservices: [kafka]\nkafka:\n  replication_factor: 1\n  min_insync_replicas: 1\ningest:\n  load: 2000\n');
  const base = 'platform:\n  kind: local\nroles: {control: 1, broker: 1, worker: 1}\nservices: [kafka]\nkafka:\n  replication_factor: 1\n  min_insync_replicas: 1\ningest:\n  load: 2000\n';
  writeFileSync(
    join(home, 'experiments', 'declared.yaml'),
    base +
      'sweep:\n  factors:\n    ingest.message_size: [512, 4096]\n    ingest.partitions: [1, 3]\n  repetitions: 2\n  order: random\n  seed: 7\n  idle_between: 5s\n' +
      'search:\n  strategy: double-bisect\n  start: 3000\n  precision: 0.1\n  trial_warmup: 2s\n  trial_duration: 8s\n  slo: {min_ratio: 0.9, p99_ms: 50}\n',
  );
  writeFileSync(join(home, 'experiments', 'badsweep.yaml'), base + 'sweep:\n  factors:\n    ingest.partitions: []\n  repetitions: 0\n');
  writeFileSync(join(home, 'experiments', 'badfactor.yaml'), base + 'sweep:\n  factors:\n    roles.broker: [1, 0]\n');
  writeFileSync(join(home, 'experiments', 'badsearch.yaml'), base + 'search:\n  min_load: 5000\n  max_load: 4000\n');
  writeFileSync(join(home, 'experiments', 'badconfirm.yaml'), base + 'search:\n  confirm_within: 1.5\n');
  writeFileSync(join(home, 'experiments', 'confirm.yaml'), base + 'search:\n  confirm_within: 0.2\n');
  writeFileSync(join(home, 'experiments', 'cool.yaml'), base + 'search:\n  cooldown: 45s\n');
  writeFileSync(join(home, 'experiments', 'badcool.yaml'), base + 'search:\n  cooldown: -5\n');
  process.env.GREENRACE_HOME = home;
  process.env.GREENRACE_RESULTS_DIR = join(home, 'results');
  process.env.GREENRACE_STATE_DIR = join(home, '.greenrace');
});
afterAll(() => {
  process.env = saved;
  rmSync(home, { recursive: true, force: true });
});

const sweep = (grid: string[], extra: Partial<SweepOptions> = {}): SweepOptions => ({
  experiment: 'camp',
  factors: grid.map(parseGridFlag),
  repetitions: 3,
  order: 'sequential',
  seed: 1,
  idleBetweenS: 0,
  cvThreshold: 0.1,
  ...extra,
});

describe('sweep input', () => {
  it('plans a valid grid with a stable id (the same definition resumes the same sweep)', () => {
    const a = planSweep(sweep(['ingest.message_size=512,4096', 'ingest.partitions=1,3']));
    const b = planSweep(sweep(['ingest.message_size=512,4096', 'ingest.partitions=1,3']));
    expect(a.schedule).toHaveLength(12);
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(planSweep(sweep(['ingest.message_size=512,4096', 'ingest.partitions=1,3'], { repetitions: 2 })).id);
  });
  it('an unknown factor path is a config error naming the --grid flag and the allowed keys', () => {
    expect(() => planSweep(sweep(['ingest.mesage_size=512,4096']))).toThrow(/--grid ingest\.mesage_size=512,4096.*allowed: .*message_size/s);
  });
  it('a value the schema refuses names the flag', () => {
    expect(() => planSweep(sweep(['ingest.partitions=0,3']))).toThrow(/--grid ingest\.partitions=0,3/);
  });
  it('empty grids, no factors and repetitions < 1 are refused', () => {
    expect(() => planSweep(sweep(['ingest.partitions=']))).toThrow(/no values/);
    expect(() => planSweep(sweep([]))).toThrow(/no factors/);
    expect(() => planSweep(sweep(['ingest.partitions=1,3'], { repetitions: 0 }))).toThrow(/repetitions must be a whole number ≥ 1/);
  });
  it('"max" is only a load value', () => {
    expect(() => planSweep(sweep(['ingest.partitions=max']))).toThrow(/"max" is only a value of ingest.load/);
    expect(planSweep(sweep(['ingest.load=max', 'ingest.message_size=512,4096'])).points).toHaveLength(2);
  });
  it('set-up factors are planned as setup paths, grouped so the cluster is set up once per value', () => {
    const p = planSweep(sweep(['ingest.partitions=1,3', 'roles.broker=1,2', 'kafka.heap=384m'], { order: 'random', seed: 3 }));
    expect(p.setupPaths).toEqual(['roles.broker', 'kafka.heap']);
    // random order: shuffled within each setup, never back and forth between setups
    const brokers = p.schedule.map((r) => r.point.assignments['roles.broker']);
    expect(brokers.filter((b, i) => i > 0 && b !== brokers[i - 1])).toHaveLength(1);
    expect(planSweep(sweep(['ingest.broker=kafka'])).setupPaths).toEqual(['ingest.broker']);
  });
  it('a set-up factor value the experiment refuses names the flag, before anything runs', () => {
    expect(() => planSweep(sweep(['roles.broker=1,0']))).toThrow(/--grid roles\.broker=1,0.*broker/s);
    expect(() => planSweep(sweep(['kafka.heap=lots']))).toThrow(/--grid kafka\.heap=lots/);
    expect(() => planSweep(sweep(['runtime=host,vm']))).toThrow(/--grid runtime=host,vm/);
  });
  it('a broker kind that cannot be installed (Redpanda without its apt repository) is refused with the reason, leaving nothing', async () => {
    const err = await runSweep(sweep(['ingest.broker=kafka,redpanda'], { repetitions: 1, reachable: async () => 'ENOTFOUND linux.pkg.redpanda.com' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sweep.redpanda_unavailable', exitCode: 2 });
    expect(String((err as Error).message)).toMatch(/--grid ingest\.broker=kafka,redpanda: .*Redpanda.*apt repository.*ENOTFOUND linux\.pkg\.redpanda\.com.*cannot be installed here/s);
    expect(existsSync(join(home, 'results', 'camp'))).toBe(false);
    expect(existsSync(join(home, '.greenrace', 'camp'))).toBe(false);
  });
});

describe('search input', () => {
  it('starts from the experiment load and the default SLO', () => {
    const s = prepareSearch({ experiment: 'camp' });
    expect(s.params).toMatchObject({ strategy: 'knee', start: 2000, precision: 0.05, maxTrials: 15 });
    // The backlog grace resolved: no p99 bound, so the generator's 250 ms.
    expect(s.slo).toEqual({ minRatio: 0.95, noBacklog: true, maxBacklog: 0, backlogGraceMs: 250 });
    expect(s.trial).toMatchObject({ durationS: 30, rampStepS: 15 });
    // ingest can ramp inside one run: the knee's first trial is a ramp of 8 steps × 2, each half a trial long.
    expect(s.params.ramp).toEqual({ steps: 8, factor: 2 });
    // The knee retries a failure within 10 % of a pass by default.
    expect(s.params.confirm).toBe(0.1);
    expect(s.rampStepS).toBe(15);
    expect(prepareSearch({ experiment: 'camp', ramp: false }).params.ramp).toBeUndefined();
  });
  it('contradictory SLOs are refused, each reason listed', () => {
    expect(() => prepareSearch({ experiment: 'camp', slo: { minRatio: 1.5 } })).toThrow(/SLO min_ratio: must be in \(0, 1\]/);
    expect(() => prepareSearch({ experiment: 'camp', slo: { noBacklog: false, maxBacklog: 10 } })).toThrow(/max_backlog: is set but no_backlog is false/);
    expect(() => prepareSearch({ experiment: 'camp', slo: { maxLagSlope: 5 } })).toThrow(/max_lag_slope: needs a consumer/);
    expect(() => prepareSearch({ experiment: 'camp', slo: { noBacklog: false, backlogGraceMs: 300 } })).toThrow(/SLO backlog_grace: is set but no_backlog is false/);
    expect(() => prepareSearch({ experiment: 'camp', trialDuration: '4s', slo: { backlogGraceMs: 5000 } })).toThrow(/SLO backlog_grace: 5000 ms is not shorter than a trial's measured 4 s/);
  });
  it('bounds that cannot hold are refused', () => {
    expect(() => prepareSearch({ experiment: 'camp', minLoad: 5000, maxLoad: 4000 })).toThrow(/--max-load: must be above --min-load/);
    expect(() => prepareSearch({ experiment: 'camp', start: 10, minLoad: 100 })).toThrow(/--start: must be within/);
    expect(() => prepareSearch({ experiment: 'camp', seedFrom: 'nope' })).toThrow(/--seed-from nope: no search search-nope/);
    expect(() => prepareSearch({ experiment: 'camp', trialDuration: 'soon' })).toThrow(/ingest\.duration/);
  });
});

describe('the campaign workload comes from the registry', () => {
  it('ingest declares its load knob; a workload without one, or an unknown name, is refused by name', () => {
    expect(campaignWorkload()).toMatchObject({ name: 'ingest', loadPath: 'ingest.load', unit: 'msg/s', section: 'ingest' });
    expect(() => campaignWorkload('net')).toThrow(/workload net cannot be searched or swept: .*only ingest declares/);
    expect(() => campaignWorkload('nope')).toThrow(/workload nope does not exist; campaigns can run: ingest/);
  });
});

describe('campaigns declared in the experiment file (sweep: and search: sections), flags over them', () => {
  it('a sweep: section defines the sweep; a --grid factor replaces the file\'s factor of its path; flags override the rest', () => {
    const p = planSweep({ experiment: 'declared', factors: [] });
    expect(p.def).toMatchObject({ repetitions: 2, order: 'random', seed: 7, idleBetweenS: 5, cvThreshold: 0.1 });
    expect(p.def.factors.map((f) => [f.path, f.values])).toEqual([
      ['ingest.message_size', [512, 4096]],
      ['ingest.partitions', [1, 3]],
    ]);
    expect(p.schedule).toHaveLength(8);
    // The same definition from flags gives the same sweep (id), so either way resumes it.
    const flags = planSweep({ experiment: 'camp', factors: ['ingest.message_size=512,4096', 'ingest.partitions=1,3'].map(parseGridFlag), repetitions: 2, order: 'random', seed: 7 });
    expect(flags.id).toBe(p.id);
    const o = planSweep({ experiment: 'declared', factors: [parseGridFlag('ingest.partitions=6')], repetitions: 1, order: 'sequential' });
    expect(o.def.factors.map((f) => [f.path, f.values])).toEqual([
      ['ingest.message_size', [512, 4096]],
      ['ingest.partitions', [6]],
    ]);
    expect(o.schedule).toHaveLength(2);
  });
  it('bad sweep: values name the file and key', () => {
    expect(() => planSweep({ experiment: 'badsweep', factors: [] })).toThrow(/badsweep\.yaml.*sweep\.(factors|repetitions)/s);
    expect(() => planSweep({ experiment: 'badfactor', factors: [] })).toThrow(/badfactor\.yaml: sweep\.factors\.roles\.broker.*broker/s);
  });
  it('a search: section sets the search; flags override it key by key', () => {
    const s = prepareSearch({ experiment: 'declared' });
    expect(s.params).toMatchObject({ strategy: 'double-bisect', start: 3000, precision: 0.1, minRatio: 0.9 });
    // With a p99 bound the grace is that bound: a message not even sent within its latency budget is late.
    expect(s.slo).toEqual({ minRatio: 0.9, noBacklog: true, maxBacklog: 0, p99Ms: 50, backlogGraceMs: 50 });
    expect(s.trial).toEqual({ warmupS: 2, durationS: 8, rampStepS: 4, coolDownS: 60 });
    expect(s.set).toEqual(['ingest.warmup=2', 'ingest.duration=8']);
    const f = prepareSearch({ experiment: 'declared', strategy: 'knee', start: 2500, trialDuration: '4s', slo: { p99Ms: 80 } });
    expect(f.params).toMatchObject({ strategy: 'knee', start: 2500, precision: 0.1 });
    expect(f.slo).toMatchObject({ minRatio: 0.9, p99Ms: 80 });
    expect(f.set).toEqual(['ingest.warmup=2', 'ingest.duration=4s']);
  });
  it('bad search: values name the file and key', () => {
    expect(() => prepareSearch({ experiment: 'badsearch' })).toThrow(/badsearch\.yaml: search\.max_load: must be above/);
  });
  it('search.cooldown: 60 s by default, from the file, a flag over it (0: none), a bad value named by its file and key or its flag', () => {
    expect(prepareSearch({ experiment: 'camp' }).trial.coolDownS).toBe(60);
    expect(prepareSearch({ experiment: 'cool' }).trial.coolDownS).toBe(45);
    expect(prepareSearch({ experiment: 'cool', coolDown: '0' }).trial.coolDownS).toBe(0);
    expect(prepareSearch({ experiment: 'cool', coolDown: '1m30s' }).trial.coolDownS).toBe(90);
    expect(() => prepareSearch({ experiment: 'badcool' })).toThrow(/badcool\.yaml.*search\.cooldown/);
    expect(() => prepareSearch({ experiment: 'camp', coolDown: 'soon' })).toThrow(/^--cooldown: expected a duration/);
    expect(() => prepareSearch({ experiment: 'camp', coolDown: '2h' })).toThrow(/^--cooldown: expected a duration from 0 to 1h/);
  });
  it('search.confirm_within: from the file, a flag over it, a bad value named by its file and key or its flag', () => {
    expect(prepareSearch({ experiment: 'confirm' }).params.confirm).toBe(0.2);
    expect(prepareSearch({ experiment: 'confirm', confirmWithin: 0 }).params.confirm).toBe(0);
    expect(() => prepareSearch({ experiment: 'badconfirm' })).toThrow(/badconfirm\.yaml.*search\.confirm_within: must be at most 1 \(got 1\.5\)/);
    expect(() => prepareSearch({ experiment: 'camp', confirmWithin: -0.1 })).toThrow(/^--confirm-within: must be a fraction in \[0, 1\]/);
    expect(() => prepareSearch({ experiment: 'camp', confirmWithin: Number.NaN })).toThrow(/^--confirm-within: must be a fraction/);
  });
});

describe('a campaign on an experiment that is not set up', () => {
  it('is refused with the command to run, before it leaves a sweep or search record', async () => {
    await expect(runSweep({ experiment: 'declared', factors: [] })).rejects.toMatchObject({ code: 'experiment.not_ready', hint: expect.stringContaining('entrypoint setup declared') });
    await expect(searchCampaign({ experiment: 'declared' })).rejects.toMatchObject({ code: 'experiment.not_ready' });
    expect(existsSync(join(home, 'results', 'declared'))).toBe(false);
  });
});
