import { describe, expect, it } from 'vitest';
import { runPhases } from '../../../src/runs/record.js';

describe('runPhases', () => {
  it('splits a run into prepare, warm-up, measure and collect, and the overhead is the rest of the wall time', () => {
    const start = 1_000_000;
    const p = runPhases({ start, sharedStart: start + 3_250, windowStart: start + 8_250, windowEnd: start + 28_250, end: start + 30_750 });
    expect(p).toEqual({ prepare_s: 3.25, warmup_s: 5, measure_s: 20, collect_s: 2.5, total_s: 30.75, overhead_s: 5.75 });
    expect(p.prepare_s + p.warmup_s + p.measure_s + p.collect_s).toBeCloseTo(p.total_s, 9);
  });

  it('never reports a negative phase when clocks disagree by a few milliseconds', () => {
    const p = runPhases({ start: 10_000, sharedStart: 12_000, windowStart: 11_990, windowEnd: 21_990, end: 21_980 });
    expect(p.warmup_s).toBe(0);
    expect(p.collect_s).toBe(0);
    expect(p.measure_s).toBe(10);
  });
});
