import { describe, expect, it } from 'vitest';
import { runSearch } from '../../../src/campaigns/search/loop.js';
import { evaluateSlo, sloProblems, type Slo } from '../../../src/campaigns/search/slo.js';
import { bracketOf, capacityEstimate, nextTrial, type SearchParams, type Trial } from '../../../src/campaigns/search/strategy.js';
import { SimulatedSystem } from '../../support/simulated-system.js';

const slo: Slo = { minRatio: 0.95, noBacklog: true, maxBacklog: 0 };
const params = (strategy: SearchParams['strategy'], start: number, extra: Partial<SearchParams> = {}): SearchParams => ({
  strategy,
  start,
  precision: 0.05,
  minLoad: 1,
  maxLoad: 10_000_000,
  maxTrials: 30,
  minRatio: 0.95,
  probeFactor: 8,
  ...extra,
});

describe('SLO', () => {
  it('passes a trial that keeps up and names every reason of a failure', () => {
    expect(evaluateSlo(slo, { target: 1000, achieved: 990, backlog: 0 })).toEqual({ pass: true, reasons: [] });
    const v = evaluateSlo({ ...slo, p99Ms: 50 }, { target: 1000, achieved: 900, backlog: 1200, p99Ms: 80 });
    expect(v.pass).toBe(false);
    expect(v.reasons).toEqual(['achieved 900 < 95 % of target 1000', 'p99 80 ms > 50 ms', 'backlog 1200 messages at the end']);
  });
  it('uses the saturation flag when there is no backlog count, and tolerates max_backlog', () => {
    expect(evaluateSlo(slo, { target: 10, achieved: 10, saturated: true }).reasons).toEqual(['saturated (backlog at the end)']);
    expect(evaluateSlo({ ...slo, maxBacklog: 1000 }, { target: 10, achieved: 10, backlog: 999 }).pass).toBe(true);
    expect(evaluateSlo(slo, { target: 10, achieved: 10 }).reasons).toEqual(['no backlog figure reported']);
  });
  it('finds contradictions before anything runs', () => {
    const probs = sloProblems({ minRatio: 1.2, p99Ms: 0, noBacklog: false, maxBacklog: 5, maxLagSlope: 10 }, { hasConsumer: false, reportsBacklog: true, reportsP99: true });
    expect(probs.map((p) => p.key)).toEqual(['min_ratio', 'p99_ms', 'max_backlog', 'max_lag_slope']);
    expect(sloProblems(slo, { hasConsumer: false, reportsBacklog: false, reportsP99: false })[0]!.message).toMatch(/reports no backlog/);
  });
});

describe('strategies', () => {
  const t = (n: number, target: number, pass: boolean, achieved: number | null = pass ? target : null): Trial => ({ n, kind: 'fixed', target, achieved, pass, reasons: [] });
  it('double-bisect doubles until a failure, then bisects (GreenFlow)', () => {
    const p = params('double-bisect', 1000);
    expect(nextTrial([], p)).toMatchObject({ kind: 'fixed', rate: 1000 });
    expect(nextTrial([t(1, 1000, true)], p)).toMatchObject({ rate: 2000, why: 'double' });
    expect(nextTrial([t(1, 1000, true), t(2, 2000, false)], p)).toMatchObject({ rate: 1500, why: 'bisect' });
    expect(nextTrial([t(1, 1000, false)], p)).toMatchObject({ rate: 500, why: 'halve' });
    expect(nextTrial([t(1, 1000, true), t(2, 1040, false)], p)).toEqual({ kind: 'done', reason: 'converged' });
  });
  it('the bracket takes the lowest failure and the highest pass below it, and counts inconsistent passes', () => {
    expect(bracketOf([t(1, 1000, true), t(2, 2000, false), t(3, 1500, false), t(4, 1800, true), t(5, 1200, true)])).toEqual({ low: 1200, high: 1500, inconsistent: 1 });
  });
  it('the knee estimate is the plateau of the failing ramp steps, or the achieved rate of an overload probe', () => {
    const ramp: Trial = {
      n: 1,
      kind: 'ramp',
      target: 8000,
      achieved: 3000,
      pass: false,
      reasons: [],
      steps: [
        { target: 1000, achieved: 1000, pass: true },
        { target: 2000, achieved: 2000, pass: true },
        { target: 4000, achieved: 3000, pass: false },
        { target: 8000, achieved: 3100, pass: false },
      ],
    };
    expect(capacityEstimate([ramp], 0.95)).toBe(3050);
    // A first step that failed below later passes (the run's start-up, as seen on the real Kafka) is not the plateau.
    const startup: Trial = { ...ramp, steps: [{ target: 1000, achieved: 860, pass: false }, ...ramp.steps!.slice(1)] };
    expect(capacityEstimate([startup], 0.95)).toBe(3050);
    expect(capacityEstimate([t(1, 16000, false, 3000)], 0.95)).toBe(3000);
    // A failure that kept up with its target (e.g. over the p99 bound) is no estimate.
    expect(capacityEstimate([t(1, 16000, false, 15900)], 0.95)).toBeNull();
  });
  it('knee aims just below the seeded capacity first', () => {
    expect(nextTrial([], params('knee', 1000, { seed: 40_000 }))).toMatchObject({ kind: 'fixed', rate: 39_000 });
  });
});

describe('search against a simulated system with a known capacity', () => {
  const capacities = [3_700, 12_345, 61_000, 250_000];
  const starts = [1000, 2000];
  for (const capacity of capacities)
    for (const start of starts) {
      it(`capacity ${capacity} from ${start}: both strategies bracket it within 5 %, knee in fewer trials`, async () => {
        const db = await runSearch(params('double-bisect', start), slo, new SimulatedSystem({ capacity }));
        const probe = await runSearch(params('knee', start), slo, new SimulatedSystem({ capacity }));
        const ramp = await runSearch(params('knee', start, { ramp: { steps: 8, factor: 2 } }), slo, new SimulatedSystem({ capacity, canRamp: true }));
        for (const o of [db, probe, ramp]) {
          expect(o.withinPrecision).toBe(true);
          expect(o.bracket.low!).toBeLessThanOrEqual(capacity);
          expect(o.bracket.high!).toBeGreaterThan(capacity);
          expect(o.bracket.high! / o.bracket.low!).toBeLessThanOrEqual(1.05 + 1e-9);
        }
        expect(probe.trials.length).toBeLessThan(db.trials.length);
        expect(ramp.trials.length).toBeLessThan(db.trials.length);
        expect(ramp.seconds).toBeLessThan(db.seconds);
      });
    }

  it('with 2 % capacity noise, the knee result stays within 5 % + noise of the capacity', async () => {
    let dbTrials = 0;
    let kneeTrials = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const db = await runSearch(params('double-bisect', 1000), slo, new SimulatedSystem({ capacity: 50_000, noise: 0.02, seed }));
      const sys = new SimulatedSystem({ capacity: 50_000, noise: 0.02, seed, canRamp: true });
      const k = await runSearch(params('knee', 1000, { ramp: { steps: 8, factor: 2 } }), slo, sys);
      expect(k.withinPrecision).toBe(true);
      expect(Math.abs(k.capacity! - 50_000) / 50_000).toBeLessThan(0.05 + 3 * 0.02);
      dbTrials += db.trials.length;
      kneeTrials += k.trials.length;
    }
    expect(kneeTrials).toBeLessThan(dbTrials);
  });

  it('a p99 bound that binds below the throughput knee is still found (the knee steps down)', async () => {
    // p99 = 5 / (1 − ρ) ≤ 50 ms ⇒ ρ ≤ 0.9: the capacity under this SLO is 0.9 × 20 000 = 18 000.
    const s: Slo = { ...slo, p99Ms: 50 };
    const o = await runSearch(params('knee', 1000, { ramp: { steps: 8, factor: 2 } }), s, new SimulatedSystem({ capacity: 20_000, canRamp: true }));
    expect(o.withinPrecision).toBe(true);
    expect(o.bracket.low!).toBeLessThanOrEqual(18_000);
    expect(o.bracket.high!).toBeGreaterThan(18_000);
  });

  it('stops at max_trials and says the bracket is not within precision', async () => {
    const o = await runSearch(params('double-bisect', 1000, { maxTrials: 3 }), slo, new SimulatedSystem({ capacity: 50_000 }));
    expect(o.stopReason).toBe('max_trials');
    expect(o.withinPrecision).toBe(false);
    expect(o.trials).toHaveLength(3);
  });

  it('stops at max_load when the system keeps up with everything', async () => {
    const o = await runSearch(params('knee', 1000, { maxLoad: 5000 }), slo, new SimulatedSystem({ capacity: 1e9 }));
    expect(o.stopReason).toBe('max_load');
    expect(o.capacity).toBe(5000);
  });
});
