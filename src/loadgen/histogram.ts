/**
 * A log-linear latency histogram in the spirit of HdrHistogram: values (integers, here
 * microseconds) below 2^(SUB_BITS+1) are counted exactly; above, each power of two is split into
 * 2^SUB_BITS equal buckets, so any reported value is within 1/2^SUB_BITS (0.78 %) of the truth.
 * Recording is O(1) with no allocation; histograms from several generators merge exactly.
 */
export const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128
/** Largest value kept as is; larger values are clamped (2^36 µs ≈ 19 h). */
export const MAX_VALUE = 2 ** 36 - 1;
const MAX_SHIFT = 36 - SUB_BITS - 1;
const SIZE = (MAX_SHIFT + 1) * SUB + 2 * SUB;

export function bucketIndex(v: number): number {
  if (v < 2 * SUB) return v < 0 ? 0 : Math.floor(v);
  const x = v > MAX_VALUE ? MAX_VALUE : Math.floor(v);
  // Most significant bit without 32-bit limits.
  const msb = x < 2 ** 32 ? 31 - Math.clz32(x) : 32 + (31 - Math.clz32(Math.floor(x / 2 ** 32)));
  const shift = msb - SUB_BITS;
  return shift * SUB + Math.floor(x / 2 ** shift);
}

/** The smallest value that lands in bucket `i`. */
export function bucketLow(i: number): number {
  if (i < 2 * SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  return (i - shift * SUB) * 2 ** shift;
}

/** The largest value that lands in bucket `i`. */
export function bucketHigh(i: number): number {
  if (i < 2 * SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  return bucketLow(i) + 2 ** shift - 1;
}

export interface HistogramJson {
  /** Unit of the recorded values. */
  unit: 'us';
  subBits: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  /** Sparse buckets: [index, count]. */
  buckets: Array<[number, number]>;
}

export class LatencyHistogram {
  private counts = new Float64Array(SIZE);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(v: number, n = 1): void {
    if (!(n > 0)) return;
    const x = v < 0 ? 0 : v;
    this.counts[bucketIndex(x)]! += n;
    this.count += n;
    this.sum += x * n;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  /** Value at percentile p (0..100): the highest value equivalent to the bucket, capped at max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    let acc = 0;
    for (let i = 0; i < SIZE; i++) {
      acc += this.counts[i]!;
      if (acc >= rank) return Math.min(bucketHigh(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Number of recorded values ≤ v (to the histogram's precision). */
  countAtOrBelow(v: number): number {
    const last = bucketIndex(v);
    let acc = 0;
    for (let i = 0; i <= last; i++) acc += this.counts[i]!;
    return acc;
  }

  add(other: LatencyHistogram): void {
    for (let i = 0; i < SIZE; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.count > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  toJSON(): HistogramJson {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { unit: 'us', subBits: SUB_BITS, count: this.count, min: this.count ? this.min : 0, max: this.max, sum: this.sum, buckets };
  }

  static fromJSON(j: HistogramJson): LatencyHistogram {
    if (j.subBits !== SUB_BITS || j.unit !== 'us') throw new Error(`histogram with subBits ${j.subBits} / unit ${j.unit} cannot be merged`);
    const h = new LatencyHistogram();
    for (const [i, c] of j.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= SIZE) throw new Error(`histogram bucket index ${i} out of range`);
      h.counts[i]! += c;
    }
    h.count = j.count;
    h.sum = j.sum;
    h.min = j.count ? j.min : Infinity;
    h.max = j.max;
    return h;
  }
}
