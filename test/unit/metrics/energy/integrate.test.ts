import { describe, expect, it } from 'vitest';
import { counterDeltaOverWindow, counterIncrease, coverage, integratePower, type Sample } from '../../../../src/metrics/energy/integrate.js';

describe('counter increase', () => {
  it('sums a monotonic counter', () => {
    expect(counterIncrease([[0, 10], [1, 15], [2, 30]])).toEqual({ increase: 20, resets: 0, wraps: 0, span: 2 });
  });
  it('treats a drop as a reset without a known range (as Prometheus does)', () => {
    // 100 → 120, restart at 0, then 5 → 25
    const r = counterIncrease([[0, 100], [1, 120], [2, 5], [3, 25]])!;
    expect(r.increase).toBe(20 + 5 + 20);
    expect(r.resets).toBe(1);
  });
  it('compensates a wrap exactly when the range is known', () => {
    // range 100: 90 → 98 → (wraps) 3 → 13: real increase 8 + (100 - 98 + 3) + 10 = 23
    const r = counterIncrease([[0, 90], [1, 98], [2, 3], [3, 13]], 100)!;
    expect(r.increase).toBe(23);
    expect(r.wraps).toBe(1);
    expect(r.resets).toBe(0);
  });
  it('needs two samples', () => {
    expect(counterIncrease([[0, 1]])).toBeNull();
  });
});

describe('counter delta over an exact window', () => {
  const linear = (from: number, to: number, rate: number, step = 1): Sample[] => {
    const out: Sample[] = [];
    for (let t = from; t <= to; t += step) out.push([t, rate * t]);
    return out;
  };
  it('interpolates at window edges that fall between samples', () => {
    const d = counterDeltaOverWindow(linear(0, 20, 7), { start: 3.25, end: 12.5 }, { maxExtrapolate: 1 })!;
    expect(d.delta).toBeCloseTo(7 * 9.25, 9);
  });
  it('extrapolates at most maxExtrapolate seconds past the last sample', () => {
    // samples only up to t=10, window to t=15: 1 s of extrapolation, not 5
    const d = counterDeltaOverWindow(linear(0, 10, 2), { start: 0, end: 15 }, { maxExtrapolate: 1 })!;
    expect(d.delta).toBeCloseTo(22, 9);
  });
  it('is exact across a wrap inside the window', () => {
    const range = 50;
    const s: Sample[] = linear(0, 20, 4).map(([t, v]) => [t, v % range]);
    const d = counterDeltaOverWindow(s, { start: 2.5, end: 17.5 }, { maxRange: range, maxExtrapolate: 1 })!;
    expect(d.wraps).toBe(1);
    expect(d.delta).toBeCloseTo(4 * 15, 9);
  });
  it('does not count missing samples (a gap) as zero energy: the counter spans it', () => {
    const s = linear(0, 20, 3).filter(([t]) => t < 5 || t > 14);
    expect(counterDeltaOverWindow(s, { start: 0, end: 20 }, { maxExtrapolate: 1 })!.delta).toBeCloseTo(60, 9);
  });
});

describe('coverage', () => {
  it('reports full coverage for regular samples', () => {
    const c = coverage([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { start: 0, end: 10 }, 2.5);
    expect(c).toEqual({ samples: 11, gaps: 0, coveredSeconds: 10, fraction: 1 });
  });
  it('counts a gap and removes its time', () => {
    const c = coverage([0, 1, 2, 7, 8, 9, 10], { start: 0, end: 10 }, 2.5);
    expect(c.gaps).toBe(1);
    expect(c.coveredSeconds).toBe(5);
    expect(c.fraction).toBe(0.5);
  });
  it('counts a late first sample as a gap at the start', () => {
    const c = coverage([6, 7, 8, 9, 10], { start: 0, end: 10 }, 2.5);
    expect(c.gaps).toBe(1);
    expect(c.fraction).toBeCloseTo(0.4);
  });
  it('ignores samples outside the window and reports none', () => {
    expect(coverage([20, 30], { start: 0, end: 10 }, 2)).toEqual({ samples: 0, gaps: 0, coveredSeconds: 0, fraction: 0 });
  });
});

describe('trapezoid integration of power', () => {
  it('integrates a ramp exactly', () => {
    // P = 10 + 2t from 0 to 10 → 100 + 100 = 200 J
    const s: Sample[] = Array.from({ length: 11 }, (_, t) => [t, 10 + 2 * t]);
    expect(integratePower(s, { start: 0, end: 10 })).toBeCloseTo(200, 9);
  });
  it('interpolates at edges between samples', () => {
    const s: Sample[] = [[0, 100], [10, 100]];
    expect(integratePower(s, { start: 2.5, end: 7.5 })).toBeCloseTo(500, 9);
  });
  it('returns null without samples', () => {
    expect(integratePower([], { start: 0, end: 1 })).toBeNull();
  });
});
