import { describe, expect, it } from 'vitest';
import { LatencyHistogram, bucketHigh, bucketIndex, bucketLow, SUB_BITS } from '../../../src/loadgen/histogram.js';

describe('LatencyHistogram', () => {
  it('keeps small values exact and large values within 1/128', () => {
    for (const v of [0, 1, 7, 255]) expect(bucketLow(bucketIndex(v))).toBe(v);
    for (const v of [256, 1000, 12_345, 999_999, 2 ** 31 + 17, 2 ** 33 + 5]) {
      const i = bucketIndex(v);
      expect(bucketLow(i)).toBeLessThanOrEqual(v);
      expect(bucketHigh(i)).toBeGreaterThanOrEqual(v);
      expect((bucketHigh(i) - bucketLow(i)) / v).toBeLessThan(1 / 2 ** SUB_BITS);
    }
  });

  it('bucket indices are monotonic and contiguous across powers of two', () => {
    let prev = -1;
    for (let v = 0; v < 70_000; v++) {
      const i = bucketIndex(v);
      expect(i === prev || i === prev + 1).toBe(true);
      prev = i;
    }
  });

  it('percentiles of a uniform 1..100000 µs distribution are within 1 %', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const [p, want] of [[50, 50_000], [95, 95_000], [99, 99_000], [99.9, 99_900]] as const) {
      expect(Math.abs(h.percentile(p) - want) / want).toBeLessThan(0.01);
    }
    expect(h.percentile(100)).toBe(100_000);
    expect(h.max).toBe(100_000);
    expect(h.min).toBe(1);
    expect(h.mean()).toBeCloseTo(50_000.5, 1);
  });

  it('a tail of slow requests shows in p99.9 and max, not in p50', () => {
    const h = new LatencyHistogram();
    h.record(2000, 9990);
    h.record(1_500_000, 10);
    expect(h.percentile(50)).toBeLessThanOrEqual(2000 * (1 + 1 / 128));
    expect(h.percentile(99.95)).toBeGreaterThan(1_480_000);
    expect(h.max).toBe(1_500_000);
  });

  it('merging equals recording everything in one histogram, also through JSON', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) {
      const v = (i * 7919) % 300_000;
      (i % 3 ? a : b).record(v);
      all.record(v);
    }
    const m = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    m.add(LatencyHistogram.fromJSON(b.toJSON()));
    for (const p of [50, 90, 99, 99.9]) expect(m.percentile(p)).toBe(all.percentile(p));
    expect(m.count).toBe(all.count);
    expect(m.max).toBe(all.max);
    expect(m.min).toBe(all.min);
  });

  it('an empty histogram reports zeros', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(99)).toBe(0);
    expect(h.toJSON()).toMatchObject({ count: 0, min: 0, max: 0, buckets: [] });
  });

  it('rejects a histogram of another precision', () => {
    expect(() => LatencyHistogram.fromJSON({ unit: 'us', subBits: 3, count: 0, min: 0, max: 0, sum: 0, buckets: [] })).toThrow(/subBits/);
  });
});
