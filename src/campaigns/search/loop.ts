/**
 * The search loop: ask the strategy for the next trial, have the executor run it, judge it against
 * the SLO, and go on until the strategy is done. The executor is the only part that touches a
 * system (a real cluster through the app layer, or a simulated one in tests and bench/search).
 */
import { evaluateSlo, type Slo, type TrialFigures } from './slo.js';
import { bracketOf, confirmOf, converged, nextTrial, pastKnee, verdicts, type Bracket, type RampStep, type SearchParams, type Trial } from './strategy.js';

export interface FixedResult {
  figures: TrialFigures;
  runId?: string;
  seconds?: number;
}

export interface RampResult {
  /** Per step: target and achieved; the loop judges each step on throughput and backlog. */
  steps: Array<{ target: number; achieved: number | null; backlogGrew: boolean }>;
  runId?: string;
  seconds?: number;
}

export interface TrialExecutor {
  fixed(rate: number, n: number, why: string): Promise<FixedResult>;
  /** Absent when the workload cannot raise its rate in steps inside one run. */
  ramp?(rates: number[], n: number, why: string): Promise<RampResult>;
  /**
   * Wait `seconds` before trial `n` because trial `after` failed (the cool-down). Absent: no
   * waiting (a simulated system has no memory of its load).
   */
  coolDown?(seconds: number, n: number, after: Trial): Promise<void>;
}

export interface SearchOutcome {
  trials: Trial[];
  bracket: Bracket;
  /** The highest load that met the SLO below the lowest failure (the capacity), or null. */
  capacity: number | null;
  withinPrecision: boolean;
  stopReason: 'converged' | 'max_trials' | 'max_load' | 'min_load';
  /** Sum of the trials' wall-clock seconds (when the executor measured them) and of the cool-downs before them. */
  seconds: number;
}

export async function runSearch(
  params: SearchParams,
  slo: Slo,
  exec: TrialExecutor,
  opts: {
    onTrial?: (t: Trial, b: Bracket) => void;
    initial?: Trial[];
    signal?: AbortSignal;
    /**
     * Seconds to wait after a failing trial (a ramp fails when it passes the knee) before the next
     * one: an overloaded system can carry less for a while afterwards (on this machine's Kafka a
     * trial right after an overload read 34 % lower than after a rest; bench/search/carryover.mjs).
     */
    coolDownS?: number;
  } = {},
): Promise<SearchOutcome> {
  const trials: Trial[] = [...(opts.initial ?? [])];
  const p: SearchParams = exec.ramp ? params : { ...params, ramp: undefined };
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const next = nextTrial(trials, p);
    if (next.kind === 'done') {
      const bracket = bracketOf(trials, confirmOf(p));
      return {
        trials,
        bracket,
        capacity: bracket.low,
        withinPrecision: converged(bracket, p.precision),
        stopReason: next.reason,
        seconds: trials.reduce((a, t) => a + (t.seconds ?? 0) + (t.cooledS ?? 0), 0),
      };
    }
    const n = trials.length + 1;
    const prev = trials[trials.length - 1];
    let cooled = 0;
    if (prev && !prev.pass && (opts.coolDownS ?? 0) > 0 && exec.coolDown) {
      await exec.coolDown(opts.coolDownS!, n, prev);
      cooled = opts.coolDownS!;
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    }
    let trial: Trial;
    if (next.kind === 'fixed') {
      const r = await exec.fixed(next.rate, n, next.why);
      const v = evaluateSlo(slo, r.figures);
      trial = {
        n,
        kind: 'fixed',
        target: next.rate,
        achieved: r.figures.achieved,
        pass: v.pass,
        reasons: v.reasons,
        ...(r.figures.p99Ms !== undefined ? { p99Ms: r.figures.p99Ms } : {}),
        ...(r.runId ? { runId: r.runId } : {}),
        ...(r.seconds !== undefined ? { seconds: r.seconds } : {}),
        ...(next.retryOf !== undefined ? { retryOf: next.retryOf } : {}),
        ...(cooled ? { cooledS: cooled } : {}),
      };
    } else {
      const r = await exec.ramp!(next.rates, n, next.why);
      const steps: RampStep[] = r.steps.map((s) => ({
        target: s.target,
        achieved: s.achieved,
        pass: s.achieved !== null && s.achieved >= slo.minRatio * s.target && !s.backlogGrew,
      }));
      const past = pastKnee(steps);
      const firstFail = past[0];
      const early = steps.filter((s) => !s.pass && !past.includes(s));
      trial = {
        n,
        kind: 'ramp',
        target: next.rates[next.rates.length - 1]!,
        achieved: firstFail?.achieved ?? steps[steps.length - 1]?.achieved ?? null,
        pass: !firstFail,
        reasons: [
          ...(firstFail ? [`knee between ${fmtRate(lastPass(steps))} and ${fmtRate(firstFail.target)}`] : []),
          ...(early.length ? [`step${early.length > 1 ? 's' : ''} ${early.map((s) => fmtRate(s.target)).join(', ')} below a passing step failed (start-up): not the plateau`] : []),
        ],
        steps,
        ...(r.runId ? { runId: r.runId } : {}),
        ...(r.seconds !== undefined ? { seconds: r.seconds } : {}),
        ...(cooled ? { cooledS: cooled } : {}),
      };
    }
    trials.push(trial);
    const c = confirmOf(p);
    if (c > 0 && trial.kind === 'fixed') {
      const v = verdicts(trials, c).find((x) => x.target === trial.target)!;
      trial.verdict = { load: v.load, passes: v.passes, fails: v.fails };
    }
    opts.onTrial?.(trial, bracketOf(trials, c));
  }
}

/** The highest passing step's target. */
function lastPass(steps: RampStep[]): number | null {
  const p = steps.filter((s) => s.pass).map((s) => s.target);
  return p.length ? Math.max(...p) : null;
}

export function fmtRate(v: number | null): string {
  if (v === null) return '—';
  return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
}
