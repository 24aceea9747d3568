/**
 * `entrypoint search <exp>`: the max sustainable load of a configuration under an SLO. Every trial
 * is a normal run (its record tagged with the search) linked from results/<exp>/search-<id>/search.json,
 * which is rewritten after every trial.
 */
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import { GreenraceError, InterruptedError, RunError, UsageError, errorMessage } from '../../core/errors.js';
import { loadExperiment } from '../../experiment/load.js';
import { figuresOf } from '../../campaigns/figures.js';
import { listCampaigns, readCampaign, saveSearch, type SearchRecord } from '../../campaigns/records.js';
import { runSearch, type RampResult, type SearchOutcome } from '../../campaigns/search/loop.js';
import { backlogGraceOf, sloProblems, type Slo } from '../../campaigns/search/slo.js';
import type { Bracket, SearchParams, StrategyName, Trial } from '../../campaigns/search/strategy.js';
import { campaignWorkload, checkOverrides, runTagged, settleRuns, type CampaignWorkload } from './workload.js';
import { parseSet } from '../../config/loader.js';
import { requireReady } from '../context.js';
import { parseDuration } from '../../core/duration.js';
import { sleep } from '../../core/sleep.js';

export interface SearchOptions {
  experiment: string;
  /** The workload of the trials (default: the file's `search.workload`, ingest). */
  workload?: string;
  set?: string[];
  /** Overrides every trial shares (a sweep point passes its own). */
  overrides?: Record<string, unknown>;
  strategy?: StrategyName;
  /** Flags; each unset one comes from the experiment's `search:` section. First load (double-bisect) / probe base (knee); default: the workload's load. */
  start?: number;
  precision?: number;
  minLoad?: number;
  maxLoad?: number;
  maxTrials?: number;
  probeFactor?: number;
  /** Knee: retry a failure within this fraction above a pass before it bounds the bracket (default: search.confirm_within, 0.1). */
  confirmWithin?: number;
  /** Knee: one ramp trial to find the knee (default: search.ramp, true, when the workload can ramp). */
  ramp?: boolean;
  slo?: Partial<Slo>;
  seedFrom?: string;
  /** Trial warm-up and measured duration (default: the experiment's). */
  trialWarmup?: string | number;
  trialDuration?: string | number;
  /** Wait after a failing trial before the next (default: search.cooldown). */
  coolDown?: string | number;
  onTrial?: (t: Trial, b: Bracket, unit: string) => void;
  progress?: (l: string) => void;
  signal?: AbortSignal;
  /** Sweep point that runs this search (recorded in the trials' tags). */
  point?: string;
}

export interface SearchCampaignOutcome {
  record: SearchRecord;
  path: string;
  outcome: SearchOutcome;
}

export const DEFAULT_SLO: Slo = { minRatio: 0.95, noBacklog: true, maxBacklog: 0 };

export function newCampaignId(kind: 'search' | 'sweep'): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${kind}-${t}-${randomBytes(2).toString('hex')}`;
}

/** The capacity an earlier search found (`--seed-from`). */
export function seedCapacity(exp: string, ref: string): { id: string; capacity: number } {
  const id = ref.startsWith('search-') ? ref : `search-${ref}`;
  const rec = readCampaign<SearchRecord>(exp, id, 'search.json');
  if (!rec) {
    const known = listCampaigns(exp, 'search');
    throw new UsageError('search.unknown_seed', `--seed-from ${ref}: no search ${id} for ${exp}` + (known.length ? `; known: ${known.join(', ')}` : ''));
  }
  const c = rec.result?.capacity;
  if (c === null || c === undefined) throw new UsageError('search.seed_without_result', `--seed-from ${ref}: search ${id} found no capacity (${rec.status})`);
  return { id, capacity: c };
}

/** Validate everything that can be checked before a trial runs; returns the search's settings (the flags over the file's `search:` section). */
export function prepareSearch(opts: SearchOptions): {
  params: SearchParams;
  slo: Slo;
  set: string[];
  wl: CampaignWorkload;
  name: string;
  rampStepS: number;
  trial: { warmupS: number; durationS: number; rampStepS: number; coolDownS: number };
  seeded?: { id: string; capacity: number };
} {
  const set = [...(opts.set ?? [])];
  for (const s of set) parseSet(s);
  const file = loadExperiment(opts.experiment, { set });
  const sec = file.experiment.search;
  const wl = campaignWorkload(opts.workload ?? sec.workload);
  const trialOverrides: Record<string, unknown> = { ...(opts.overrides ?? {}) };
  const warmup = opts.trialWarmup ?? sec.trial_warmup;
  const duration = opts.trialDuration ?? sec.trial_duration;
  if (warmup !== undefined) trialOverrides[`${wl.section}.warmup`] = warmup;
  if (duration !== undefined) trialOverrides[`${wl.section}.duration`] = duration;
  checkOverrides(opts.experiment, set, trialOverrides, (p) => (opts.point ? `sweep point ${p}` : `search ${p}`));
  const { experiment } = loadExperiment(opts.experiment, { set, overrides: Object.entries(trialOverrides).map(([path, value]) => ({ path, value, flag: path })) });
  const fileSlo: Slo = {
    minRatio: sec.slo.min_ratio,
    noBacklog: sec.slo.no_backlog,
    maxBacklog: sec.slo.max_backlog,
    ...(sec.slo.p99_ms !== undefined ? { p99Ms: sec.slo.p99_ms } : {}),
    ...(sec.slo.max_lag_slope !== undefined ? { maxLagSlope: sec.slo.max_lag_slope } : {}),
    ...(sec.slo.backlog_grace !== undefined ? { backlogGraceMs: Math.round(sec.slo.backlog_grace * 1000) } : {}),
  };
  const slo: Slo = { ...fileSlo, ...(opts.slo ?? {}) };
  const trialS = Number((experiment as unknown as Record<string, { duration: number }>)[wl.section]!.duration);
  const problems = sloProblems(slo, { hasConsumer: wl.hasConsumer, reportsBacklog: wl.reportsBacklog, reportsP99: wl.reportsP99, ...(Number.isFinite(trialS) ? { trialSeconds: trialS } : {}) });
  if (problems.length) {
    const [first, ...rest] = problems.map((p) => `SLO ${p.key}: ${p.message}`);
    throw new UsageError('search.bad_slo', first!, { details: rest });
  }
  const start = opts.start ?? sec.start ?? (experiment as unknown as Record<string, { load: number }>)[wl.section]!.load;
  const params: SearchParams = {
    strategy: opts.strategy ?? (sec.strategy as StrategyName),
    start,
    precision: opts.precision ?? sec.precision,
    minLoad: opts.minLoad ?? sec.min_load,
    maxLoad: opts.maxLoad ?? sec.max_load,
    maxTrials: opts.maxTrials ?? sec.max_trials,
    minRatio: slo.minRatio,
    probeFactor: opts.probeFactor ?? sec.probe_factor,
    confirm: opts.confirmWithin ?? sec.confirm_within,
  };
  const wantRamp = opts.ramp ?? sec.ramp;
  if (wantRamp && wl.rampPath) params.ramp = { steps: sec.ramp_steps, factor: sec.ramp_factor };
  // A bad value names the flag that gave it, else the file's key.
  const name = (flag: string, key: string, given: unknown): string => (given !== undefined ? flag : file.where(`search.${key}`));
  const bad = (key: string, msg: string): never => {
    throw new UsageError('search.bad_option', `${key}: ${msg}`);
  };
  if (!(params.precision > 0 && params.precision < 1)) bad(name('--precision', 'precision', opts.precision), `must be in (0, 1) (got ${params.precision})`);
  if (!(params.minLoad > 0)) bad(name('--min-load', 'min_load', opts.minLoad), `must be > 0 (got ${params.minLoad})`);
  if (!(params.maxLoad > params.minLoad)) bad(name('--max-load', 'max_load', opts.maxLoad), `must be above --min-load (${params.maxLoad} ≤ ${params.minLoad})`);
  if (!(params.start >= params.minLoad && params.start <= params.maxLoad)) bad(name('--start', 'start', opts.start ?? sec.start), `must be within [${params.minLoad}, ${params.maxLoad}] (got ${params.start})`);
  if (!(Number.isInteger(params.maxTrials) && params.maxTrials >= 2)) bad(name('--max-trials', 'max_trials', opts.maxTrials), `must be a whole number ≥ 2 (got ${params.maxTrials})`);
  if (!(params.confirm! >= 0 && params.confirm! <= 1)) bad(name('--confirm-within', 'confirm_within', opts.confirmWithin), `must be a fraction in [0, 1] (0 turns confirmation off; got ${params.confirm})`);
  if (!(params.probeFactor > 1)) bad(name('--probe-factor', 'probe_factor', opts.probeFactor), `must be > 1 (got ${params.probeFactor})`);
  const seeded = opts.seedFrom ? seedCapacity(opts.experiment, opts.seedFrom) : undefined;
  if (seeded) params.seed = seeded.capacity;
  if (trialOverrides[`${wl.section}.warmup`] !== undefined) set.push(`${wl.section}.warmup=${String(trialOverrides[`${wl.section}.warmup`])}`);
  if (trialOverrides[`${wl.section}.duration`] !== undefined) set.push(`${wl.section}.duration=${String(trialOverrides[`${wl.section}.duration`])}`);
  // A ramp step lasts ramp_step, else half the trial's measured duration (at least 2 s).
  const rampStepS = sec.ramp_step ?? Math.max(2, Math.round(trialS / 2));
  const warmupS = Number((experiment as unknown as Record<string, { warmup: number }>)[wl.section]!.warmup);
  let coolDownS = sec.cooldown;
  if (opts.coolDown !== undefined) {
    const d = parseDuration(opts.coolDown);
    if (d === undefined || !(d >= 0 && d <= 3600)) return bad('--cooldown', `expected a duration from 0 to 1h such as 60s, or 0 for none (got ${String(opts.coolDown)})`);
    coolDownS = d;
  }
  const trial = { warmupS, durationS: trialS, rampStepS, coolDownS };
  return { params, slo: slo.noBacklog ? { ...slo, backlogGraceMs: backlogGraceOf(slo) } : slo, set, wl, name: experiment.name, rampStepS, trial, ...(seeded ? { seeded } : {}) };
}

export async function searchCampaign(opts: SearchOptions): Promise<SearchCampaignOutcome> {
  const { params, slo, set, wl, seeded, name, rampStepS, trial } = prepareSearch(opts);
  // Not set up: one message naming the command to run, before the search leaves any record.
  requireReady(name);
  const id = newCampaignId('search');
  const overrides = { ...(opts.overrides ?? {}) };
  const rec: SearchRecord = {
    schema: 'greenrace.search/1',
    id,
    experiment: opts.experiment,
    workload: wl.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    load: { path: wl.loadPath, unit: wl.unit },
    overrides,
    params,
    slo,
    trial,
    ...(seeded ? { seededFrom: seeded } : {}),
    trials: [],
  };
  const path = saveSearch(rec);
  opts.progress?.(`search ${id}: ${params.strategy}, start ${params.start} ${wl.unit}, bracket within ${params.precision * 100} %${params.strategy === 'knee' && params.confirm ? `, a failure within ${Math.round(params.confirm * 1000) / 10} % of a pass retried` : ''}, trials ${trial.warmupS} s warm-up + ${trial.durationS} s${trial.coolDownS ? `, ${trial.coolDownS} s cool-down after a failing trial` : ''}, SLO achieved ≥ ${slo.minRatio * 100} % of target${slo.p99Ms !== undefined ? `, p99 ≤ ${slo.p99Ms} ms` : ''}${slo.noBacklog ? `, no backlog (unsent messages due in the last ${backlogGraceOf(slo)} ms are the tail${slo.maxBacklog ? `; ≤ ${slo.maxBacklog} overdue tolerated` : ''})` : ''}; record ${relative(process.cwd(), path)}`);
  // Each trial's page-cache verdict (its run's results.page_cache, ingest/pagecache.ts).
  const pageCache = new Map<number, NonNullable<NonNullable<SearchRecord['result']>['pageCache']>>();
  const notePageCache = (n: number, results: Record<string, unknown> | undefined): void => {
    const v = results?.page_cache as { absorbed?: unknown; bytesPerBroker?: unknown; thresholdBytes?: unknown; seconds?: unknown; expireSeconds?: unknown } | undefined;
    if (v && typeof v.absorbed === 'boolean' && typeof v.bytesPerBroker === 'number' && typeof v.thresholdBytes === 'number' && typeof v.seconds === 'number' && typeof v.expireSeconds === 'number') {
      pageCache.set(n, { absorbed: v.absorbed, bytesPerBroker: v.bytesPerBroker, thresholdBytes: v.thresholdBytes, seconds: v.seconds, expireSeconds: v.expireSeconds, trial: n });
    }
  };
  const exec = {
    coolDown: async (seconds: number, n: number, after: Trial) => {
      opts.progress?.(`cooling down ${seconds} s before trial ${n}: trial ${after.n} failed, and an overloaded system carries less for a while afterwards (search.cooldown)`);
      await sleep(seconds * 1000, opts.signal, () => new InterruptedError('search interrupted during a cool-down'));
    },
    fixed: async (rate: number, n: number, why: string) => {
      const t0 = Date.now();
      opts.progress?.(`trial ${n}: ${Math.round(rate)} ${wl.unit} (${why})`);
      const r = await runTagged(wl, opts.experiment, set, { ...overrides, [wl.loadPath]: Math.round(rate * 1000) / 1000 }, { kind: 'search', id, trial: n, ...(opts.point ? { point: opts.point } : {}) }, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.progress ? { progress: (l: string) => opts.progress!(`  ${l}`) } : {}),
      });
      const f = figuresOf(r.record);
      if (r.error && f.throughput === null) throw r.error;
      notePageCache(n, r.record.results);
      return { figures: { target: rate, achieved: f.throughput, p99Ms: f.p99Ms, backlog: f.backlog, senders: f.senders, saturated: f.saturated }, runId: r.record.id, seconds: (Date.now() - t0) / 1000 };
    },
    ...(params.ramp && wl.rampPath
      ? {
          ramp: async (rates: number[], n: number, why: string): Promise<RampResult> => {
            const t0 = Date.now();
            opts.progress?.(`trial ${n}: ramp ${rates.map((r) => Math.round(r)).join(' → ')} ${wl.unit}, ${rampStepS} s each (${why})`);
            const steps = rates.map((r) => ({ load: Math.round(r * 1000) / 1000, duration: rampStepS }));
            const r = await runTagged(wl, opts.experiment, set, { ...overrides, [wl.loadPath]: steps[0]!.load, [wl.rampPath!]: steps }, { kind: 'search', id, trial: n, ...(opts.point ? { point: opts.point } : {}) }, {
              ...(opts.signal ? { signal: opts.signal } : {}),
              ...(opts.progress ? { progress: (l: string) => opts.progress!(`  ${l}`) } : {}),
            });
            const got = (r.record.results?.steps ?? []) as Array<{ achieved_rate?: number; backlog_grew?: boolean; p99_ms?: number | null }>;
            if (got.length !== rates.length) throw r.error ?? new RunError('search.ramp_no_steps', `ramp trial ${n} (run ${r.record.id}) reported ${got.length} steps of ${rates.length}`);
            notePageCache(n, r.record.results);
            for (const [k, x] of got.entries()) opts.progress?.(`  step ${k + 1}: target ${Math.round(rates[k]!)}, achieved ${x.achieved_rate ?? '—'} ${wl.unit}, p99 ${x.p99_ms ?? '—'} ms${x.backlog_grew ? ', backlog grew' : ''}`);
            return { steps: got.map((x, k) => ({ target: rates[k]!, achieved: x.achieved_rate ?? null, backlogGrew: x.backlog_grew ?? true })), runId: r.record.id, seconds: (Date.now() - t0) / 1000 };
          },
        }
      : {}),
  };
  try {
    const outcome = await runSearch(params, slo, exec, {
      onTrial: (t, b) => {
        rec.trials.push({ ...t, ...(t.runId ? { run: `../${t.runId}/run.json` } : {}) });
        saveSearch(rec);
        opts.onTrial?.(t, b, wl.unit);
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
      coolDownS: trial.coolDownS,
    });
    await settleRuns();
    rec.status = 'completed';
    rec.endedAt = new Date().toISOString();
    // The trial that passed at the capacity (the last one; a ramp's step counts as its trial).
    const at = [...outcome.trials].reverse().find((t) => (t.kind === 'fixed' ? t.pass && t.target === outcome.capacity : (t.steps ?? []).some((x) => x.pass && x.target === outcome.capacity)));
    const pc = at ? pageCache.get(at.n) : undefined;
    rec.result = { capacity: outcome.capacity, bracket: outcome.bracket, withinPrecision: outcome.withinPrecision, stopReason: outcome.stopReason, trials: outcome.trials.length, seconds: Math.round(outcome.seconds), ...(pc ? { pageCache: pc } : {}) };
    saveSearch(rec);
    return { record: rec, path, outcome };
  } catch (e) {
    await settleRuns();
    const interrupted = e instanceof InterruptedError || opts.signal?.aborted;
    rec.status = interrupted ? 'aborted' : 'failed';
    rec.endedAt = new Date().toISOString();
    rec.error = { code: e instanceof GreenraceError ? e.code : 'search.failed', message: errorMessage(e) };
    saveSearch(rec);
    if (interrupted) throw new InterruptedError(`search ${id} stopped after ${rec.trials.length} trials; its record is saved (status aborted): ${relative(process.cwd(), path)}`);
    if (e instanceof GreenraceError) throw e;
    throw new RunError('search.failed', `search ${id} failed: ${errorMessage(e)}`, { cause: e });
  }
}
