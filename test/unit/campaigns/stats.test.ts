import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTQuantile, summarize } from '../../../src/campaigns/stats.js';

describe('Student t', () => {
  // Two-sided 95 % critical values t(0.975, df) from the standard tables.
  const table: Array<[number, number]> = [
    [1, 12.706],
    [2, 4.303],
    [3, 3.182],
    [4, 2.776],
    [5, 2.571],
    [9, 2.262],
    [10, 2.228],
    [19, 2.093],
    [29, 2.045],
    [60, 2.0],
    [120, 1.98],
  ];
  it.each(table)('t(0.975, %i) is %f as in the tables', (df, t) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
  });
  it('tends to the normal 1.96 for large df and is symmetric', () => {
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.96, 2);
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 10);
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
    // t(0.995, 4) = 4.604 (two-sided 99 %)
    expect(studentTQuantile(0.995, 4)).toBeCloseTo(4.604, 3);
  });
  it('refuses p outside (0, 1)', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/\(0, 1\)/);
  });
});

describe('summarize', () => {
  it('gives mean, sample sd, Student-t CI and CV for a known sample', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7.
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    const half = 2.364624 * (Math.sqrt(32 / 7) / Math.sqrt(8)); // t(0.975, 7) = 2.3646
    expect(s.ci95!.halfWidth).toBeCloseTo(half, 5);
    expect(s.ci95!.low).toBeCloseTo(5 - half, 5);
    expect(s.cv).toBeCloseTo(Math.sqrt(32 / 7) / 5, 12);
    expect([s.min, s.max]).toEqual([2, 9]);
  });
  it('three repetitions use t(0.975, 2) = 4.303, not 1.96', () => {
    const s = summarize([100, 110, 90]);
    expect(s.sd).toBeCloseTo(10, 12);
    expect(s.ci95!.halfWidth).toBeCloseTo((4.3027 * 10) / Math.sqrt(3), 3);
  });
  it('one value has a mean but no spread; missing values are left out', () => {
    expect(summarize([42, null, undefined, Number.NaN])).toMatchObject({ n: 1, mean: 42, sd: null, ci95: null, cv: null });
    expect(summarize([])).toMatchObject({ n: 0, mean: null });
  });
  it('CV is null for a zero mean', () => {
    expect(summarize([-1, 1]).cv).toBeNull();
  });
});
