import { describe, expect, it } from 'vitest';
import { Schedule } from '../../../src/loadgen/schedule.js';

describe('Schedule (open loop)', () => {
  const s = new Schedule({ startAt: 1_000_000, rate: 1000, warmupS: 2, durationS: 10 });

  it('spaces intended send times by 1/rate from the shared start', () => {
    expect(s.intended(0)).toBe(1_000_000);
    expect(s.intended(1)).toBe(1_000_001);
    expect(s.intended(1500)).toBe(1_001_500);
  });

  it('counts due messages from the clock, not from acknowledgements', () => {
    expect(s.dueBy(999_999)).toBe(0);
    expect(s.dueBy(1_000_000)).toBe(1);
    expect(s.dueBy(1_000_000.5)).toBe(1);
    expect(s.dueBy(1_000_010)).toBe(11);
    // A stall of 3 s does not change what is due: everything since the start is.
    expect(s.dueBy(1_003_000)).toBe(3001);
    expect(s.dueBy(2_000_000)).toBe(s.total);
  });

  it('splits warm-up from the measured phase', () => {
    expect(s.total).toBe(12_000);
    expect(s.firstMeasured).toBe(2000);
    expect(s.measuredTarget).toBe(10_000);
    expect(s.isMeasured(1999)).toBe(false);
    expect(s.isMeasured(2000)).toBe(true);
    expect(s.isMeasured(12_000)).toBe(false);
    expect(s.phase(999_000)).toBe('waiting');
    expect(s.phase(1_001_999)).toBe('warmup');
    expect(s.phase(1_002_000)).toBe('measure');
    expect(s.phase(1_012_000)).toBe('done');
  });

  it('handles fractional periods without drift', () => {
    const f = new Schedule({ startAt: 0, rate: 3, warmupS: 0, durationS: 100 });
    expect(f.total).toBe(300);
    expect(f.dueBy(99_999)).toBe(300);
    expect(f.intended(299)).toBeCloseTo(99_666.67, 1);
  });

  it('rate 0 means unthrottled: everything is due during the run', () => {
    const u = new Schedule({ startAt: 0, rate: 0, warmupS: 1, durationS: 5 });
    expect(u.unthrottled).toBe(true);
    expect(u.dueBy(500)).toBe(Infinity);
    expect(u.dueBy(6000)).toBe(0);
  });

  it('rejects impossible parameters', () => {
    expect(() => new Schedule({ startAt: 0, rate: -5, warmupS: 0, durationS: 1 })).toThrow(/rate/);
    expect(() => new Schedule({ startAt: 0, rate: 5, warmupS: 0, durationS: 0 })).toThrow(/duration/);
  });
});
