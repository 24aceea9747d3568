/**
 * Pure arithmetic shared by energy sources: coverage of a window by sample timestamps, trapezoid
 * integration of power samples, and increase of a counter across resets and wraps.
 */
import type { EnergyCoverage, EnergyWindow } from './source.js';

/** A sample: epoch seconds and a value. */
export type Sample = readonly [t: number, v: number];

/**
 * Coverage of `window` by sample timestamps. A gap is an interval between consecutive samples (or
 * between a window edge and the nearest sample) longer than `gapThreshold` seconds; gap time is not
 * covered. With samples every `step` seconds, pass `gapThreshold = 2 * step`.
 */
export function coverage(times: readonly number[], window: EnergyWindow, gapThreshold: number): EnergyCoverage {
  const len = window.end - window.start;
  const ts = times.filter((t) => t >= window.start && t <= window.end).sort((a, b) => a - b);
  if (ts.length === 0 || len <= 0) return { samples: 0, gaps: 0, coveredSeconds: 0, fraction: 0 };
  let gaps = 0;
  let uncovered = 0;
  const edges = [window.start, ...ts, window.end];
  for (let i = 1; i < edges.length; i++) {
    const d = edges[i]! - edges[i - 1]!;
    if (d > gapThreshold) {
      gaps++;
      uncovered += d;
    }
  }
  const coveredSeconds = Math.max(0, len - uncovered);
  return { samples: ts.length, gaps, coveredSeconds, fraction: coveredSeconds / len };
}

/**
 * Energy in joules from power samples in watts over `window` by the trapezoid rule. Samples outside
 * the window are used only to interpolate the value at its edges; the edges are clamped to the
 * nearest sample when there is none beyond them (no extrapolation beyond one sample).
 */
export function integratePower(samples: readonly Sample[], window: EnergyWindow): number | null {
  const s = [...samples].sort((a, b) => a[0] - b[0]);
  if (s.length === 0) return null;
  const at = (t: number): number => {
    if (t <= s[0]![0]) return s[0]![1];
    const last = s[s.length - 1]!;
    if (t >= last[0]) return last[1];
    for (let i = 1; i < s.length; i++) {
      const [t1, v1] = s[i]!;
      const [t0, v0] = s[i - 1]!;
      if (t <= t1) return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
    return last[1];
  };
  const pts: Sample[] = [[window.start, at(window.start)]];
  for (const p of s) if (p[0] > window.start && p[0] < window.end) pts.push(p);
  pts.push([window.end, at(window.end)]);
  let e = 0;
  for (let i = 1; i < pts.length; i++) e += ((pts[i]![1] + pts[i - 1]![1]) / 2) * (pts[i]![0] - pts[i - 1]![0]);
  return e;
}

export interface CounterIncrease {
  /** Increase between the first and last sample, resets and wraps compensated. */
  increase: number;
  /** Resets (value went down without a known range) and wraps (went down, range known). */
  resets: number;
  wraps: number;
  /** Seconds between the first and last sample used. */
  span: number;
}

/**
 * Increase of a monotonic counter from samples. A drop is a wrap when `maxRange` is known (the
 * counter went past its maximum and restarted at 0: increase += maxRange - prev + cur), otherwise a
 * reset (increase += cur, as Prometheus does). Returns null with fewer than two samples.
 */
export function counterIncrease(samples: readonly Sample[], maxRange?: number): CounterIncrease | null {
  const s = [...samples].sort((a, b) => a[0] - b[0]);
  if (s.length < 2) return null;
  let inc = 0;
  let resets = 0;
  let wraps = 0;
  for (let i = 1; i < s.length; i++) {
    const prev = s[i - 1]![1];
    const cur = s[i]![1];
    if (cur >= prev) inc += cur - prev;
    else if (maxRange !== undefined && maxRange > 0 && prev <= maxRange) {
      wraps++;
      inc += maxRange - prev + cur;
    } else {
      resets++;
      inc += cur;
    }
  }
  return { increase: inc, resets, wraps, span: s[s.length - 1]![0] - s[0]![0] };
}

/**
 * Scale a counter increase measured between the first and last sample inside the window to the
 * whole window, as Prometheus' `increase()` does, but without extrapolating more than half a step
 * (`maxExtrapolate` seconds) past each edge.
 */
export function extrapolateToWindow(inc: CounterIncrease, firstT: number, lastT: number, window: EnergyWindow, maxExtrapolate: number): number {
  if (inc.span <= 0) return 0;
  const before = Math.min(Math.max(0, firstT - window.start), maxExtrapolate);
  const after = Math.min(Math.max(0, window.end - lastT), maxExtrapolate);
  return inc.increase * ((inc.span + before + after) / inc.span);
}

/**
 * Counter increase over exactly [window.start, window.end]: the counter is first made monotonic
 * (wraps add `maxRange`, resets add the new value, as Prometheus does), then its value at each edge
 * is interpolated between the samples around the edge. With no sample beyond an edge, the rate of
 * the nearest interval is extrapolated for at most `maxExtrapolate` seconds.
 */
export function counterDeltaOverWindow(
  samples: readonly Sample[],
  window: EnergyWindow,
  opts: { maxRange?: number; maxExtrapolate: number },
): { delta: number; resets: number; wraps: number } | null {
  const s = [...samples].sort((a, b) => a[0] - b[0]);
  if (s.length < 2) return null;
  // Unwrap into a monotonic series.
  const u: Sample[] = [[s[0]![0], s[0]![1]]];
  let offset = 0;
  let resets = 0;
  let wraps = 0;
  for (let i = 1; i < s.length; i++) {
    const prev = s[i - 1]![1];
    const cur = s[i]![1];
    if (cur < prev) {
      // Count the drops that affect the window (between its edges' bracketing samples).
      const inside = s[i]![0] > window.start && s[i - 1]![0] < window.end;
      if (opts.maxRange !== undefined && opts.maxRange > 0 && prev <= opts.maxRange) {
        if (inside) wraps++;
        offset += opts.maxRange;
      } else {
        if (inside) resets++;
        offset += prev;
      }
    }
    u.push([s[i]![0], cur + offset]);
  }
  const valueAt = (t: number): number => {
    const first = u[0]!;
    const last = u[u.length - 1]!;
    if (t <= first[0]) {
      const second = u[1]!;
      const rate = (second[1] - first[1]) / Math.max(1e-9, second[0] - first[0]);
      return first[1] - rate * Math.min(first[0] - t, opts.maxExtrapolate);
    }
    if (t >= last[0]) {
      const before = u[u.length - 2]!;
      const rate = (last[1] - before[1]) / Math.max(1e-9, last[0] - before[0]);
      return last[1] + rate * Math.min(t - last[0], opts.maxExtrapolate);
    }
    for (let i = 1; i < u.length; i++) {
      const [t1, v1] = u[i]!;
      const [t0, v0] = u[i - 1]!;
      if (t <= t1) return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
    return last[1];
  };
  const delta = valueAt(window.end) - valueAt(window.start);
  return { delta: Math.max(0, delta), resets, wraps };
}
