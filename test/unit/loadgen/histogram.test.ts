import { build } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';

describe('LatencyHistogram (HdrHistogram, µs, 3 significant digits)', () => {
  it('percentiles of a uniform 1..100000 µs distribution are within 0.1 %', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const [p, want] of [[50, 50_000], [95, 95_000], [99, 99_000], [99.9, 99_900]] as const) {
      expect(Math.abs(h.percentile(p) - want) / want).toBeLessThan(0.001);
    }
    expect(Math.abs(h.max - 100_000) / 100_000).toBeLessThan(0.001);
    expect(h.min).toBe(1);
    expect(h.mean()).toBeCloseTo(50_000.5, -1);
    expect(h.count).toBe(100_000);
  });

  it('gives the same answers as HdrHistogram used directly on the same data', () => {
    const mine = new LatencyHistogram();
    const ref = build({ numberOfSignificantValueDigits: 3 });
    for (let i = 0; i < 20_000; i++) {
      const v = Math.round(1000 * Math.exp(((i * 7919) % 1000) / 120)); // 1 ms .. ~4 s, skewed
      mine.record(v);
      ref.recordValue(v);
    }
    for (const p of [50, 90, 99, 99.9, 100]) expect(mine.percentile(p)).toBe(ref.getValueAtPercentile(p));
    expect(mine.max).toBe(ref.getValueAtPercentile(100));
  });

  it('a tail of slow requests shows in p99.9 and max, not in p50', () => {
    const h = new LatencyHistogram();
    h.record(2000, 9990);
    h.record(1_500_000, 10);
    expect(h.percentile(50)).toBeLessThanOrEqual(2002);
    expect(h.percentile(99.95)).toBeGreaterThan(1_490_000);
  });

  it('a censored ramp records every value once, within the precision, and counts them as censored', () => {
    // 1,000,000 messages at 10,000 msg/s never sent: they waited 100 s down to 0 s at the end.
    const h = new LatencyHistogram();
    h.recordCensoredRamp(100_000_000, 100, 1_000_000);
    expect(h.count).toBe(1_000_000);
    expect(h.censored).toBe(1_000_000);
    for (const p of [10, 50, 90, 99]) {
      const want = (p / 100) * 100_000_000;
      expect(Math.abs(h.percentile(p) - want) / want).toBeLessThan(0.002);
    }
    // The same values one by one.
    const one = new LatencyHistogram();
    for (let i = 0; i < 100_000; i++) one.recordCensored(1_000_000 - i * 10);
    const ramp = new LatencyHistogram();
    ramp.recordCensoredRamp(1_000_000, 10, 100_000);
    for (const p of [1, 50, 99, 99.9]) expect(Math.abs(ramp.percentile(p) - one.percentile(p)) / one.percentile(p)).toBeLessThan(0.002);
  });

  it('merging equals recording everything in one histogram, also through the summary JSON', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) {
      const v = (i * 7919) % 300_000;
      (i % 3 ? a : b).record(v);
      all.record(v);
    }
    b.recordCensored(400_000, 7);
    all.recordCensored(400_000, 7);
    const m = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    m.add(LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))));
    for (const p of [50, 90, 99, 99.9, 100]) expect(m.percentile(p)).toBe(all.percentile(p));
    expect(m.max).toBe(all.max);
    expect(m.count).toBe(all.count);
    expect(m.censored).toBe(7);
  });

  it('counts values at or below Prometheus bucket bounds in one pass', () => {
    const h = new LatencyHistogram();
    h.record(300, 5);
    h.record(4000, 3);
    h.record(2_000_000, 2);
    expect(h.countsAtOrBelow([500, 5000, 1_000_000, 30_000_000])).toEqual([5, 8, 8, 10]);
  });

  it('an empty histogram reports zeros; a foreign encoding is refused with a stable code', () => {
    const h = new LatencyHistogram();
    expect([h.percentile(99), h.max, h.min, h.mean(), h.count]).toEqual([0, 0, 0, 0, 0]);
    expect(() => LatencyHistogram.fromJSON({ unit: 'us', encoding: 'buckets' as never, data: '', count: 0, censored: 0 })).toThrow(
      expect.objectContaining({ code: 'loadgen.histogram' }),
    );
    expect(() => LatencyHistogram.fromJSON({ unit: 'us', encoding: 'hdr-compressed-base64', data: 'not base64 hdr', count: 0, censored: 0 })).toThrow(
      expect.objectContaining({ code: 'loadgen.histogram' }),
    );
  });
});
