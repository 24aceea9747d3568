/**
 * Max-sustainable-throughput search strategies, as pure functions of the trials so far: given the
 * history, say which trial comes next (or that the search is done). Both strategies stop when the
 * bracket [highest passing load, lowest failing load] is within the precision:
 * high − low ≤ precision × low (GreenFlow stops at high − low < 5 % of the load).
 *
 *  - `double-bisect` (GreenFlow's adaptive search): from the start load, double until a trial
 *    fails (halve until one passes when the first fails), then bisect.
 *  - `knee` (ours): first locate the knee in one trial — a ramp inside one run (the rate rises in
 *    steps; the steps past the knee show the plateau the system reaches), or, when the workload
 *    cannot ramp, one overload probe whose achieved rate is that plateau — then confirm with
 *    full-SLO trials aimed just below the estimate and one precision step above, reusing every
 *    earlier trial for the bracket. Ramp steps are judged on throughput and backlog only, so they
 *    guide the search but never settle the bracket: only full trials do.
 *
 * Confirmation (knee, `confirm` > 0): near the capacity one short trial passes or fails at random
 * (on the real Kafka over a range wider than 5 %), and the knee probes mostly there, so one unlucky
 * failure would cap it low. A load's verdict is therefore the majority of its trials: a failure
 * within `confirm` (a fraction) above a passing load, or below one, is retried before it bounds the
 * bracket (two failures confirm it; a pass makes it 1–1 and a third trial decides). Failures far
 * above every pass count at once. Passes are not retried: confirming the low end too cost 1.5
 * trials a search in the simulator and moved the answer further below the capacity (a pass there
 * can only be overturned downwards). double-bisect stays GreenFlow's: one trial, one verdict.
 */
export type StrategyName = 'knee' | 'double-bisect';
export const STRATEGIES: readonly StrategyName[] = ['knee', 'double-bisect'];

export interface RampStep {
  target: number;
  achieved: number | null;
  /** Throughput and backlog held during this step. */
  pass: boolean;
}

export interface Trial {
  /** 1-based position in the search. */
  n: number;
  kind: 'fixed' | 'ramp';
  /** Target load (a ramp: its top step). */
  target: number;
  achieved: number | null;
  pass: boolean;
  reasons: string[];
  p99Ms?: number | null;
  steps?: RampStep[];
  runId?: string;
  /** Wall-clock seconds the trial took (overhead included). */
  seconds?: number;
  /** Seconds waited before this trial because the one before it failed (search.cooldown). */
  cooledS?: number;
  /** This trial repeats the load of trial `retryOf` (confirmation, knee). */
  retryOf?: number;
  /** The load's verdict after this trial, with confirmation (knee): pending = another trial decides. */
  verdict?: { load: 'pass' | 'fail' | 'pending'; passes: number; fails: number };
}

export interface SearchParams {
  strategy: StrategyName;
  /** First load to try (double-bisect), the bottom of the ramp (knee). */
  start: number;
  /** Relative width of the final bracket: high − low ≤ precision × low. */
  precision: number;
  minLoad: number;
  maxLoad: number;
  maxTrials: number;
  /** The SLO's throughput ratio: a failure with achieved below it is throughput-limited. */
  minRatio: number;
  /** knee: ramp inside one run when the workload can (steps, factor between steps). */
  ramp?: { steps: number; factor: number };
  /** knee without a ramp: the probe load is this many times the start (or the highest pass). */
  probeFactor: number;
  /** A capacity estimate from an earlier search (`--seed-from`): the knee is looked for there first. */
  seed?: number;
  /**
   * knee: a failure within this fraction above a passing load is retried before it bounds the
   * bracket (0 or absent: one trial, one verdict).
   * double-bisect ignores it.
   */
  confirm?: number;
}

export type NextTrial =
  | { kind: 'fixed'; rate: number; why: string; retryOf?: number }
  | { kind: 'ramp'; rates: number[]; why: string }
  | { kind: 'done'; reason: 'converged' | 'max_trials' | 'max_load' | 'min_load' };

export interface Bracket {
  /** Highest load that passed below the lowest failure (null: none passed). */
  low: number | null;
  /** Lowest load that failed (null: none failed). */
  high: number | null;
  /** Passes at or above `high`: noise made the system look non-monotonic. */
  inconsistent: number;
}

/** The bracket from full trials only (ramp steps never settle it); with `confirm` > 0, from the loads' decided verdicts. */
export function bracketOf(trials: Trial[], confirm = 0): Bracket {
  if (confirm > 0) {
    const v = verdicts(trials, confirm);
    const fails = v.filter((x) => x.load === 'fail').map((x) => x.target);
    const high = fails.length ? Math.min(...fails) : null;
    const passes = v.filter((x) => x.load === 'pass').map((x) => x.target);
    const below = high === null ? passes : passes.filter((r) => r < high);
    return { low: below.length ? Math.max(...below) : null, high, inconsistent: passes.length - below.length };
  }
  const fixed = trials.filter((t) => t.kind === 'fixed');
  const fails = fixed.filter((t) => !t.pass).map((t) => t.target);
  const high = fails.length ? Math.min(...fails) : null;
  const passes = fixed.filter((t) => t.pass).map((t) => t.target);
  const below = high === null ? passes : passes.filter((r) => r < high);
  return { low: below.length ? Math.max(...below) : null, high, inconsistent: passes.length - below.length };
}

export interface LoadVerdict {
  target: number;
  /** The first full trial at this load. */
  first: number;
  passes: number;
  fails: number;
  load: 'pass' | 'fail' | 'pending';
}

/**
 * The verdict on each load full trials tried (confirmation rule): the majority of its trials; a tie
 * is pending (a third trial decides); a single failure within `confirm` above any passing load
 * (or below one) is pending until a second trial confirms or overturns it.
 */
export function verdicts(trials: Trial[], confirm: number): LoadVerdict[] {
  const fixed = trials.filter((t) => t.kind === 'fixed');
  const passing = fixed.filter((t) => t.pass).map((t) => t.target);
  const byLoad = new Map<number, LoadVerdict>();
  for (const t of fixed) {
    const v = byLoad.get(t.target) ?? { target: t.target, first: t.n, passes: 0, fails: 0, load: 'pending' as const };
    if (t.pass) v.passes++;
    else v.fails++;
    byLoad.set(t.target, v);
  }
  for (const v of byLoad.values()) {
    if (v.passes > v.fails) v.load = 'pass';
    else if (v.passes === v.fails) v.load = 'pending';
    else if (v.fails === 1 && v.passes === 0 && passing.some((p) => v.target <= p * (1 + confirm) * (1 + 1e-9))) v.load = 'pending';
    else v.load = 'fail';
  }
  return [...byLoad.values()];
}

/** The confirmation band a strategy uses (double-bisect: none). */
export const confirmOf = (p: SearchParams): number => (p.strategy === 'knee' ? (p.confirm ?? 0) : 0);

/** Within precision: high ≤ (1 + precision) × low (a relative tolerance absorbs rounding). */
export function converged(b: Bracket, precision: number): boolean {
  return b.low !== null && b.high !== null && b.high <= b.low * (1 + precision) * (1 + 1e-9);
}

/**
 * The plateau the system reached when overloaded: the mean achieved load of the failing ramp steps
 * above its highest passing step, of the latest ramp, else the achieved load of the lowest throughput-limited failing trial.
 */
export function capacityEstimate(trials: Trial[], minRatio: number): number | null {
  for (let i = trials.length - 1; i >= 0; i--) {
    const t = trials[i]!;
    if (t.kind !== 'ramp' || !t.steps) continue;
    // The steps past the knee: failing steps above the highest passing one (a first step that
    // failed below a later pass is the run's start-up, not the plateau).
    const past = pastKnee(t.steps).filter((s) => s.achieved !== null).map((s) => s.achieved!);
    if (past.length) return past.reduce((a, b) => a + b, 0) / past.length;
  }
  const limited = trials
    .filter((t) => t.kind === 'fixed' && !t.pass && t.achieved !== null && t.achieved < minRatio * t.target)
    .sort((a, b) => a.target - b.target);
  return limited.length ? limited[0]!.achieved : null;
}

/** The failing steps of a ramp above its highest passing step. */
export function pastKnee(steps: RampStep[]): RampStep[] {
  const topPass = Math.max(-Infinity, ...steps.filter((s) => s.pass).map((s) => s.target));
  return steps.filter((s) => !s.pass && s.target > topPass);
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function doubleBisect(trials: Trial[], p: SearchParams): NextTrial {
  const b = bracketOf(trials);
  if (trials.length === 0) return { kind: 'fixed', rate: clamp(p.start, p.minLoad, p.maxLoad), why: 'start' };
  if (b.high === null) {
    if (b.low! >= p.maxLoad) return { kind: 'done', reason: 'max_load' };
    return { kind: 'fixed', rate: Math.min(2 * b.low!, p.maxLoad), why: 'double' };
  }
  if (b.low === null) {
    if (b.high <= p.minLoad) return { kind: 'done', reason: 'min_load' };
    return { kind: 'fixed', rate: Math.max(b.high / 2, p.minLoad), why: 'halve' };
  }
  return { kind: 'fixed', rate: (b.low + b.high) / 2, why: 'bisect' };
}

function rampFrom(bottom: number, p: SearchParams, why: string): NextTrial {
  const r = p.ramp!;
  const rates: number[] = [];
  for (let i = 0; i < r.steps; i++) {
    const x = bottom * r.factor ** i;
    if (x >= p.maxLoad) {
      rates.push(p.maxLoad);
      break;
    }
    rates.push(x);
  }
  return { kind: 'ramp', rates, why };
}

/** Near a rate already tried by a full trial (within a quarter of the precision)? */
const tried = (trials: Trial[], x: number, precision: number): boolean =>
  trials.some((t) => t.kind === 'fixed' && Math.abs(t.target - x) <= (precision / 4) * x);

function knee(trials: Trial[], p: SearchParams): NextTrial {
  const b = bracketOf(trials, confirmOf(p));
  const est = capacityEstimate(trials, p.minRatio);
  const aim = (e: number): number => e * (1 - p.precision / 2);
  const ramps = trials.filter((t) => t.kind === 'ramp');
  const fixed = trials.filter((t) => t.kind === 'fixed');

  // 1. Locate the knee.
  if (trials.length === 0) {
    if (p.seed !== undefined) return { kind: 'fixed', rate: clamp(aim(p.seed), p.minLoad, p.maxLoad), why: 'just below the seeded capacity' };
    if (p.ramp) return rampFrom(clamp(p.start, p.minLoad, p.maxLoad), p, 'ramp to find the knee');
    return { kind: 'fixed', rate: clamp(p.start * p.probeFactor, p.minLoad, p.maxLoad), why: 'overload probe' };
  }
  if (est === null && b.high === null) {
    // Everything passed so far: look higher.
    const top = Math.max(b.low ?? 0, ...ramps.map((t) => t.target));
    if (top >= p.maxLoad) {
      if (b.low !== null && b.low >= p.maxLoad) return { kind: 'done', reason: 'max_load' };
      return { kind: 'fixed', rate: p.maxLoad, why: 'confirm at the maximum load' };
    }
    if (p.ramp) return rampFrom(top, p, 'the ramp passed every step: ramp higher');
    return { kind: 'fixed', rate: Math.min(top * p.probeFactor, p.maxLoad), why: 'overload probe' };
  }

  // 2. Confirm around the estimate.
  const low = b.low;
  const high = b.high;
  if (low === null && high === null) {
    // Only ramps so far, and the last one showed the knee.
    return { kind: 'fixed', rate: clamp(aim(est!), p.minLoad, p.maxLoad), why: 'just below the knee of the ramp' };
  }
  if (low !== null && high !== null) {
    if (high <= low * (1 + p.precision) ** 2 * (1 + 1e-9)) {
      // One trial closes it either way.
      return { kind: 'fixed', rate: low * (1 + p.precision), why: 'close the bracket' };
    }
    if (est !== null) {
      const x = aim(est);
      if (x >= low * (1 + p.precision) && x <= high / (1 + p.precision) && !tried(trials, x, p.precision)) {
        return { kind: 'fixed', rate: x, why: 'just below the estimated knee' };
      }
      // Just above the highest pass, when the estimate says the knee is close above it.
      if (est > low && est <= low * (1 + p.precision) ** 2 && !tried(trials, low * (1 + p.precision), p.precision)) {
        return { kind: 'fixed', rate: low * (1 + p.precision), why: 'one step above the highest pass' };
      }
    }
    return { kind: 'fixed', rate: Math.sqrt(low * high), why: 'bisect' };
  }
  if (low !== null) {
    // Passes only (the estimate comes from a ramp): one precision step above the highest pass,
    // or straight to just below the estimate when it is further up.
    if (low >= p.maxLoad) return { kind: 'done', reason: 'max_load' };
    // Passes at or above the estimate say it is low (an overloaded run carries less than the
    // system does at its knee: the generator's own CPU, the steps of a ramp carrying each other's
    // backlog): gallop — 2, 4, 8, 16 … precision steps after the 1st, 2nd, 3rd, 4th such pass —
    // instead of one step a trial; a failure then bisects the bracket. (On the real Kafka 4 of 5
    // ramps read 40–85 % of the capacity full trials then passed: galloping from the first such
    // pass saves a trial against the second, bench/search simulate.ts.)
    // Distinct loads: the retries of a confirmation are one load, not more passes (counting them
    // made one gallop jump 1.05^64 ×, to the maximum load, on the real Kafka).
    const above = est === null ? 0 : new Set(fixed.filter((t) => t.pass && t.target >= est).map((t) => t.target)).size;
    if (above > 0) {
      const up = low * (1 + p.precision) ** 2 ** Math.min(above, 6);
      return { kind: 'fixed', rate: Math.min(up, p.maxLoad), why: 'passes above the estimated knee: gallop up' };
    }
    const up = est !== null && aim(est) > low * (1 + p.precision) ? aim(est) : low * (1 + p.precision);
    return { kind: 'fixed', rate: Math.min(up, p.maxLoad), why: up === low * (1 + p.precision) ? 'one step above the highest pass' : 'just below the estimated knee' };
  }
  // Failures only.
  if (high! <= p.minLoad) return { kind: 'done', reason: 'min_load' };
  if (est !== null && aim(est) < high! / (1 + p.precision / 2) && !tried(trials, aim(est), p.precision)) {
    return { kind: 'fixed', rate: Math.max(aim(est), p.minLoad), why: fixed.length ? 'just below the achieved plateau' : 'just below the estimated knee' };
  }
  // The failures were not throughput-limited (e.g. the p99 bound): step down, faster each time.
  const fails = fixed.filter((t) => !t.pass).length;
  return { kind: 'fixed', rate: Math.max(high! / (1 + p.precision) ** 2 ** Math.min(fails, 6), p.minLoad), why: 'step down' };
}

/** Confirmation trials (knee with `confirm` > 0): a pending load is retried (the lowest first). */
function confirmation(trials: Trial[], p: SearchParams): NextTrial | null {
  const c = confirmOf(p);
  if (c <= 0) return null;
  const v = verdicts(trials, c);
  const pending = v.filter((x) => x.load === 'pending').sort((a, z) => a.target - z.target)[0];
  if (pending) {
    const why =
      pending.passes === pending.fails
        ? `again as trial ${pending.first}: ${pending.passes} pass, ${pending.fails} fail at this load, a third trial decides`
        : `retry of trial ${pending.first}: a failure within ${fmtPct(c)} of a pass is confirmed before it bounds the bracket`;
    return { kind: 'fixed', rate: pending.target, why, retryOf: pending.first };
  }
  return null;
}

const fmtPct = (x: number): string => `${Math.round(x * 1000) / 10} %`;

/** The next trial of a search (or `done`). */
export function nextTrial(trials: Trial[], p: SearchParams): NextTrial {
  const b = bracketOf(trials, confirmOf(p));
  if (trials.length >= p.maxTrials) return { kind: 'done', reason: converged(b, p.precision) ? 'converged' : 'max_trials' };
  const check = confirmation(trials, p);
  if (check) return check;
  if (converged(b, p.precision)) return { kind: 'done', reason: 'converged' };
  return p.strategy === 'double-bisect' ? doubleBisect(trials, p) : knee(trials, p);
}

/** What a trial's load verdict means, for the printed trial line (confirmation, knee). */
export function verdictText(t: Trial): string | null {
  const v = t.verdict;
  if (!v) return null;
  const tally = `${v.passes} pass${v.passes === 1 ? '' : 'es'}, ${v.fails} fail${v.fails === 1 ? '' : 's'} at this load`;
  if (v.load === 'pending') return v.passes === v.fails ? `${tally}: a third trial decides` : 'near a passing load: to be confirmed by a retry';
  if (t.retryOf === undefined) return null;
  return v.load === 'fail' ? `failure confirmed (${tally})` : `failure not confirmed: counts as a pass (${tally})`;
}
