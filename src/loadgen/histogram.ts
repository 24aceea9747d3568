/**
 * Latency histogram of a generator: HdrHistogram (hdr-histogram-js, pure JS), values in integer
 * microseconds, 3 significant digits (any reported value within 0.1 % of the truth), auto-resizing.
 * Some values are censored: a message never sent or never acknowledged by the end of the run is
 * recorded at the time it had waited when the generator stopped looking (a lower bound of its
 * latency); `censored` counts them, so a reader knows how many percentiles may be lower bounds.
 * Histograms of several instances merge exactly through their compressed encoding.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { RunError } from '../core/errors.js';

export const SIGNIFICANT_DIGITS = 3;

/** A histogram as written into a summary. */
export interface HistogramJson {
  unit: 'us';
  encoding: 'hdr-compressed-base64';
  /** HdrHistogram V2 compressed encoding, base64. */
  data: string;
  count: number;
  /** How many of `count` are censored values (lower bounds). */
  censored: number;
}

/** The part of the JS histogram used here beyond the public interface (counts by index). */
interface Indexed {
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  countsArrayLength: number;
}

const fresh = (): Histogram => build({ bitBucketSize: 64, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS, autoResize: true, useWebAssembly: false });

export class LatencyHistogram {
  private h: Histogram = fresh();
  /** Values recorded as censored (lower bounds). */
  censored = 0;

  get count(): number {
    return this.h.totalCount;
  }
  /** The largest value, as the highest value of its bucket (like every percentile; ≤ 0.1 % above). */
  get max(): number {
    return this.h.totalCount ? (this.h as unknown as { highestEquivalentValue(v: number): number }).highestEquivalentValue(this.h.maxValue) : 0;
  }
  get min(): number {
    return this.h.totalCount ? this.h.minNonZeroValue : 0;
  }

  /** Record `n` values `us` (microseconds; negative counts as 0). */
  record(us: number, n = 1): void {
    if (!(n > 0)) return;
    const v = us > 0 ? Math.round(us) : 0;
    if (n === 1) this.h.recordValue(v);
    else this.h.recordValueWithCount(v, n);
  }

  /** Record `n` censored values (lower bounds of latencies not observed to their end). */
  recordCensored(us: number, n = 1): void {
    if (!(n > 0)) return;
    this.record(us, n);
    this.censored += n;
  }

  /**
   * Record `n` censored values spaced evenly from `firstUs` down by `stepUs` (a backlog on an
   * open-loop schedule: message i waited `end − intended(i)`). Values close enough to share the
   * histogram's precision are recorded together, so a backlog of millions costs little.
   */
  recordCensoredRamp(firstUs: number, stepUs: number, n: number): void {
    let i = 0;
    while (i < n) {
      const v = Math.max(0, firstUs - i * stepUs);
      // Values within 0.05 % of v (half the histogram's resolution) go in one record.
      const k = stepUs > 0 ? Math.max(1, Math.min(n - i, Math.floor((v * 0.0005) / stepUs) + 1)) : n - i;
      this.recordCensored(Math.max(0, firstUs - (i + (k - 1) / 2) * stepUs), k);
      i += k;
    }
  }

  /** Value at percentile p (0..100), µs: the highest value of its bucket (HdrHistogram's rule); 0 when empty. */
  percentile(p: number): number {
    return this.h.totalCount ? this.h.getValueAtPercentile(Math.min(100, Math.max(0, p))) : 0;
  }

  mean(): number {
    return this.h.totalCount ? this.h.mean : 0;
  }

  /** Counts of values ≤ each bound (µs, ascending), to the histogram's precision, in one pass. */
  countsAtOrBelow(boundsUs: readonly number[]): number[] {
    const x = this.h as unknown as Indexed;
    const out: number[] = [];
    let acc = 0;
    let i = 0;
    const len = x.countsArrayLength;
    for (const b of boundsUs) {
      const last = Math.min(len - 1, x.countsArrayIndex(Math.max(0, Math.floor(b))));
      for (; i <= last; i++) acc += x.getCountAtIndex(i);
      out.push(acc);
    }
    return out;
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
    this.censored += other.censored;
  }

  reset(): void {
    this.h.reset();
    this.censored = 0;
  }

  toJSON(): HistogramJson {
    return { unit: 'us', encoding: 'hdr-compressed-base64', data: encodeIntoCompressedBase64(this.h), count: this.h.totalCount, censored: this.censored };
  }

  static fromJSON(j: HistogramJson): LatencyHistogram {
    if (j.unit !== 'us' || j.encoding !== 'hdr-compressed-base64')
      throw new RunError('loadgen.histogram', `a summary histogram in ${String(j.encoding)} / ${String(j.unit)} cannot be merged (expected hdr-compressed-base64 / us)`);
    const out = new LatencyHistogram();
    let decoded: Histogram;
    try {
      decoded = decodeFromCompressedBase64(j.data, 64, false);
    } catch (e) {
      throw new RunError('loadgen.histogram', `a summary histogram cannot be decoded: ${(e as Error).message}`);
    }
    out.h.add(decoded);
    out.censored = j.censored;
    return out;
  }
}
