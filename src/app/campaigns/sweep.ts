/**
 * `entrypoint sweep <exp> --grid path=a,b …`: every point of a grid of config values, each repeated,
 * in sequential or seeded random order, with per-point statistics (mean, sd, 95 % CI, CV) written
 * to results/<exp>/sweep-<id>/sweep.json and sweep.csv after every run. The id is a hash of what
 * defines the sweep (factors, repetitions, order, seed, overrides), so running the same sweep again
 * resumes it: runs already completed (from sweep.json, or from run records tagged with the sweep)
 * are not redone. A factor value `max` on the load path runs a search for that point.
 */
import { relative } from 'node:path';
import { GreenraceError, InterruptedError, UsageError, errorMessage } from '../../core/errors.js';
import { parseSet } from '../../config/loader.js';
import { loadExperiment } from '../../experiment/load.js';
import {
  campaignHash,
  mergeFactors,
  etaSeconds,
  expandGrid,
  formatSeconds,
  remainingRuns,
  scheduleRuns,
  type DoneRun,
  type Factor,
  type GridPoint,
  type ScheduledRun,
} from '../../campaigns/grid.js';
import { changedPaths, isSetupPath, setupGroups } from '../../campaigns/setups.js';
import type { RecordLike } from '../../campaigns/figures.js';
import { pointStats, sweepCsv } from '../../campaigns/points.js';
import { readCampaign, saveSweep, type SweepRecord, type SweepRunEntry } from '../../campaigns/records.js';
import { readRunRecords } from '../report.js';
import { requireReady } from '../context.js';
import { campaignWorkload, checkOverrides, overrideSets, releaseRunConnections, runTagged, settleRuns, type CampaignWorkload } from './workload.js';
import { checkSetups, deployed, ensureSetup, restoreSetup, setupOverrides, urlReachable, type SweepSetups } from './setups.js';
import { searchCampaign, type SearchOptions } from './search.js';

export interface SweepOptions {
  experiment: string;
  /** Factors from `--grid` flags: each replaces the file's factor of the same path (`sweep.factors`). */
  factors: Factor[];
  /** The rest, when given by flags, override the experiment's `sweep:` section. */
  repetitions?: number;
  order?: 'sequential' | 'random';
  seed?: number;
  /** Idle seconds between runs, recorded as baseline windows (0: none). */
  idleBetweenS?: number;
  cvThreshold?: number;
  set?: string[];
  /** Settings of the searches run for `load: max` points (flags; the file's `search:` section fills the rest). */
  search?: Omit<SearchOptions, 'experiment' | 'set' | 'overrides' | 'signal' | 'point'>;
  progress?: (l: string) => void;
  onRun?: (e: SweepRunEntry, left: number, eta: number | null, total: number) => void;
  signal?: AbortSignal;
  /** Whether a URL answers (null) or why not: the check that Redpanda's apt repository can be reached (tests give their own). */
  reachable?: (url: string) => Promise<string | null>;
}

/** A sweep's definition once the file's `sweep:` section and the flags are merged. */
export interface SweepDefinition {
  /** The experiment's name (its state and results folders). */
  name: string;
  workload: string;
  factors: Factor[];
  repetitions: number;
  order: 'sequential' | 'random';
  seed: number;
  idleBetweenS: number;
  cvThreshold: number;
}

/** The file's `sweep:` section with the flags over it (a `--grid` factor replaces the file's factor of its path). */
export function sweepDefinition(opts: SweepOptions): SweepDefinition {
  for (const s of opts.set ?? []) parseSet(s);
  const { experiment, where } = loadExperiment(opts.experiment, { set: opts.set ?? [] });
  const sec = experiment.sweep;
  const fromFile: Factor[] = Object.entries(sec.factors).map(([path, values]) => ({ path, values, from: where(`sweep.factors.${path}`) }));
  const bad = (flag: string, msg: string): never => {
    throw new UsageError('sweep.bad_option', `${flag}: ${msg}`);
  };
  if (opts.repetitions !== undefined && !(Number.isInteger(opts.repetitions) && opts.repetitions >= 1)) bad('--repetitions', `repetitions must be a whole number ≥ 1 (got ${opts.repetitions})`);
  if (opts.cvThreshold !== undefined && !(opts.cvThreshold > 0)) bad('--cv-threshold', `must be > 0 (got ${opts.cvThreshold})`);
  if (opts.idleBetweenS !== undefined && !(opts.idleBetweenS >= 0)) bad('--idle-between', `must be ≥ 0 s (got ${opts.idleBetweenS})`);
  return {
    name: experiment.name,
    workload: sec.workload,
    factors: mergeFactors(fromFile, opts.factors),
    repetitions: opts.repetitions ?? sec.repetitions,
    order: opts.order ?? sec.order,
    seed: opts.seed ?? sec.seed,
    idleBetweenS: opts.idleBetweenS ?? sec.idle_between,
    cvThreshold: opts.cvThreshold ?? sec.cv_threshold,
  };
}

export interface SweepOutcome {
  record: SweepRecord;
  path: string;
  /** Runs that were already done when this invocation started. */
  skipped: number;
}

const MAX = 'max';

/** Points, the schedule and the sweep's id; every point validated against the experiment schema. */
export function planSweep(opts: SweepOptions): { id: string; def: SweepDefinition; wl: CampaignWorkload; points: GridPoint[]; schedule: ReturnType<typeof scheduleRuns>; setupPaths: string[] } {
  const def = sweepDefinition(opts);
  const wl = campaignWorkload(def.workload);
  const points = expandGrid(def.factors);
  const setupPaths = def.factors.map((f) => f.path).filter((p) => isSetupPath(p, wl.section));
  const schedule = scheduleRuns(points, { repetitions: def.repetitions, order: def.order, seed: def.seed, setupPaths });
  const from = new Map(def.factors.map((f) => [f.path, f.from]));
  for (const p of points) {
    const overrides: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p.assignments)) {
      if (v === MAX && k !== wl.loadPath) throw new UsageError('sweep.bad_max', `${from.get(k)}: "max" is only a value of ${wl.loadPath} (a search per point)`);
      overrides[k] = v === MAX ? 1 : v;
    }
    checkOverrides(opts.experiment, opts.set ?? [], overrides, (path) => from.get(path) ?? path);
  }
  const id = `sweep-${campaignHash({ factors: def.factors.map((f) => ({ path: f.path, values: f.values })), repetitions: def.repetitions, order: def.order, seed: def.seed, set: opts.set ?? [] })}`;
  return { id, def, wl, points, schedule, setupPaths };
}

type SweepPlan = ReturnType<typeof planSweep>;

/** A sweep record before its first run. */
function newSweepRecord(id: string, exp: string, workload: string, def: SweepPlan['def'], set: string[], total: number, at: string): SweepRecord {
  return {
    schema: 'greenrace.sweep/1',
    id,
    experiment: exp,
    workload,
    status: 'running',
    startedAt: at,
    updatedAt: at,
    factors: def.factors.map((f) => ({ path: f.path, values: f.values })),
    repetitions: def.repetitions,
    order: def.order,
    seed: def.seed,
    idleBetweenS: def.idleBetweenS,
    cvThreshold: def.cvThreshold,
    overrides: Object.fromEntries(set.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)])),
    total,
    runs: [],
    idle: [],
    points: [],
  };
}

/** Adds to the sweep record the completed run records tagged with this sweep that it does not list yet. */
function adoptTaggedRuns(rec: SweepRecord, records: Map<string, RecordLike>, id: string): void {
  const known = new Set(rec.runs.map((e) => e.runId));
  for (const r of records.values()) {
    if (r.campaign?.kind !== 'sweep' || r.campaign.id !== id || known.has(r.id) || r.status !== 'completed') continue;
    rec.runs.push({ pointKey: r.campaign.point ?? '', repetition: r.campaign.repetition ?? 0, runId: r.id, status: r.status, startedAt: r.startedAt, seconds: r.endedAt ? (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000 : 0 });
  }
}

export async function runSweep(opts: SweepOptions): Promise<SweepOutcome> {
  const { id, def, wl, points, schedule, setupPaths } = planSweep(opts);
  const exp = opts.experiment;
  const progress = opts.progress ?? (() => {});
  const before = deployed(def.name);
  // Not set up: one message naming the command to run, before the sweep leaves any record. With
  // setup factors, a sweep may start from nothing: it sets the experiment up itself and takes it down.
  if (!setupPaths.length || before) requireReady(def.name);
  const setups: SweepSetups | undefined = setupPaths.length
    ? { exp, name: def.name, section: wl.section, set: opts.set ?? [], paths: setupPaths, ...(before ? { original: before.snapshot } : {}), progress }
    : undefined;
  const now = (): string => new Date().toISOString();
  const existing = readCampaign<SweepRecord>(exp, id, 'sweep.json');
  const rec: SweepRecord = existing ?? newSweepRecord(id, exp, wl.name, def, opts.set ?? [], schedule.length, now());
  rec.cvThreshold = def.cvThreshold;
  // Match what is done: completed entries of sweep.json, plus completed run records tagged with this
  // sweep that sweep.json missed (a stop between a run's end and the sweep's save).
  const records = new Map<string, RecordLike>();
  for (const r of readRunRecords(exp)) records.set(r.id, r);
  adoptTaggedRuns(rec, records, id);
  const done = (): DoneRun[] => rec.runs.filter((e) => e.status === 'completed').map((e) => ({ pointKey: e.pointKey, repetition: e.repetition, runId: e.runId, seconds: e.seconds }));
  const left = remainingRuns(schedule, done());
  // Runs grouped by setup (the one deployed now first): the cluster is set up once per group.
  const groups = setupGroups(left, setupPaths, setups && before ? currentGroupKey(setups, left) : undefined);
  if (setups) await checkSetups(setups, groups, def.factors, opts.reachable ?? urlReachable);
  const save = (): string => {
    rec.points = points.map((p) => pointStats(p, rec.runs, records, rec.cvThreshold));
    rec.updatedAt = now();
    return saveSweep(rec, sweepCsv(rec.factors.map((f) => f.path), rec.points));
  };
  const skipped = schedule.length - left.length;
  rec.status = left.length ? 'running' : 'completed';
  const path = save();
  const eta0 = etaSeconds(left.length, done());
  progress(
    `sweep ${id}: ${points.length} points × ${def.repetitions} repetitions = ${schedule.length} runs (${def.order}${def.order === 'random' ? `, seed ${def.seed}` : ''}` +
      `${setups ? `; ${groups.length} setup${groups.length === 1 ? '' : 's'} to go through${def.order === 'random' ? ', shuffled within each setup' : ''}` : ''}); ` +
      (skipped ? `resuming: ${skipped} done, ${left.length} left` : `${left.length} to run`) +
      (eta0 !== null && left.length ? `, ETA ${formatSeconds(eta0)} (set-ups not counted)` : '') +
      `; record ${relative(process.cwd(), path)}`,
  );
  try {
    let i = 0;
    for (const g of groups) {
      let set = opts.set ?? [];
      if (setups) {
        if (opts.signal?.aborted) throw new InterruptedError();
        await releaseRunConnections(); // the setup may change the hosts under them
        const entry = await ensureSetup(setups, g, opts.signal);
        (rec.setups ??= []).push(entry);
        save();
        set = [...set, ...overrideSets(setupOverrides(setups, g, { services: (deployed(def.name)?.snapshot.services as string[]) ?? [], roles: {} }))];
      }
      for (const run of g.runs) {
        await runOne(run, i++, set, setups ? g.key : undefined);
      }
    }
    await settleRuns(); // the last run's energy account
    rec.status = remainingRuns(schedule, done()).length ? 'failed' : 'completed';
    if (rec.status === 'failed') rec.error = { code: 'sweep.runs_failed', message: 'some runs failed; run the same sweep again to redo them' };
    if (setups) rec.setupLeft = await restoreSetup(setups);
    save();
    if (rec.setupLeft) progress(rec.setupLeft);
    return { record: rec, path, skipped };
  } catch (e) {
    await settleRuns();
    const interrupted = e instanceof InterruptedError || opts.signal?.aborted;
    rec.status = interrupted ? 'aborted' : 'failed';
    rec.error = { code: e instanceof GreenraceError ? e.code : 'sweep.failed', message: errorMessage(e) };
    save();
    if (setups) {
      // Guaranteed: what the sweep set up is taken down (or the user's setup put back), whatever stopped it.
      rec.setupLeft = await restoreSetup(setups);
      save();
      progress(rec.setupLeft);
    }
    const leftNow = remainingRuns(schedule, done()).length;
    if (interrupted) {
      throw new InterruptedError(`sweep ${id} stopped: ${schedule.length - leftNow} of ${schedule.length} runs done, ${leftNow} left; run the same command again to resume`);
    }
    throw e;
  }

  async function runOne(run: ScheduledRun, i: number, set: string[], setupKey: string | undefined): Promise<void> {
    if (opts.signal?.aborted) throw new InterruptedError();
    if (i > 0 && def.idleBetweenS > 0) {
      progress(`idle ${def.idleBetweenS} s (recorded as a baseline window)`);
      const start = Date.now() / 1000;
      await sleep(def.idleBetweenS * 1000, opts.signal);
      rec.idle.push({ start, end: Date.now() / 1000, afterRun: rec.runs[rec.runs.length - 1]?.runId ?? '' });
    }
    const t0 = Date.now();
    // The setup factors are in `set` (the group's setup); the point's workload values are the overrides.
    const overrides = Object.fromEntries(Object.entries(run.point.assignments).filter(([k]) => k.startsWith(`${wl.section}.`))) as Record<string, unknown>;
    const isMax = overrides[wl.loadPath] === MAX;
    const onSetup = setupKey !== undefined ? { setup: setupKey } : {};
    progress(`run ${skipped + i + 1}/${schedule.length}: ${run.point.key}, repetition ${run.repetition}${isMax ? ' (a search)' : ''}`);
    let entry: SweepRunEntry;
    if (isMax) {
      delete overrides[wl.loadPath];
      const s = await searchCampaign({ workload: wl.name, ...(opts.search ?? {}), experiment: exp, set, overrides, point: run.point.key, progress: (l) => progress(`  ${l}`), ...(opts.signal ? { signal: opts.signal } : {}) });
      // The point's run record is the search's highest passing trial.
      const best = s.record.trials.filter((t) => t.kind === 'fixed' && t.pass && t.target === s.record.result?.capacity)[0];
      const runId = best?.runId ?? s.record.trials[s.record.trials.length - 1]?.runId ?? '';
      for (const r of readRunRecords(exp)) records.set(r.id, r);
      entry = { pointKey: run.point.key, repetition: run.repetition, runId, status: best ? 'completed' : 'failed', startedAt: new Date(t0).toISOString(), seconds: (Date.now() - t0) / 1000, searchId: s.record.id, capacity: s.record.result?.capacity ?? null, ...onSetup };
    } else {
      const r = await runTagged(wl, exp, set, overrides, { kind: 'sweep', id, point: run.point.key, repetition: run.repetition }, {
        progress: (l) => progress(`  ${l}`),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }).catch((e: unknown) => {
        // An interrupted run is listed (aborted) before the sweep stops: sweep.json says what happened to it.
        const stopped = (e as { record?: RecordLike }).record;
        if (stopped) rec.runs.push({ pointKey: run.point.key, repetition: run.repetition, runId: stopped.id, status: stopped.status, startedAt: stopped.startedAt, seconds: (Date.now() - t0) / 1000, ...onSetup });
        throw e;
      });
      records.set(r.record.id, r.record);
      entry = { pointKey: run.point.key, repetition: run.repetition, runId: r.record.id, status: r.record.status, startedAt: r.record.startedAt, seconds: (Date.now() - t0) / 1000, ...onSetup };
      if (r.error) progress(`  run ${r.record.id} ${r.record.status}: ${r.error.message} (it will be redone when the sweep is resumed)`);
    }
    rec.runs.push(entry);
    save();
    const remaining = remainingRuns(schedule, done()).length;
    opts.onRun?.(entry, remaining, etaSeconds(remaining, done()), schedule.length);
  }
}

/** The key of the group whose setup is the one deployed now (so the sweep starts on it, with no redeploy). */
function currentGroupKey(s: SweepSetups, left: ScheduledRun[]): string | undefined {
  const now = deployed(s.name);
  if (!now || now.phase !== 'ready') return undefined;
  for (const g of setupGroups(left, s.paths)) {
    const ov = setupOverrides(s, g, { services: now.snapshot.services as string[], roles: {} });
    if (changedPaths(now.snapshot, ov).length === 0) return g.key;
  }
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new InterruptedError());
      },
      { once: true },
    );
  });
}
