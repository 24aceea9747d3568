/**
 * Shared machinery of the Prometheus-backed energy sources: which series belong to which host, and
 * a counter's increase over a window from its raw samples (edges interpolated, resets and wraps
 * compensated) with coverage.
 */
import { escapeRegex, promLabelValue, type MatrixItem, type PrometheusClient } from '../prometheus.js';
import { counterDeltaOverWindow, coverage } from './integrate.js';
import type { EnergyCoverage, EnergyHost, EnergyWindow } from './source.js';

/** The `instance` label regex selecting a host's series: its listed instances, or any port on its address. */
export function instanceRegex(h: EnergyHost): string {
  if (h.instances && h.instances.length > 0) return h.instances.map(escapeRegex).join('|');
  return `${escapeRegex(h.address)}:[0-9]+`;
}

/** A selector of `metric` restricted to all the given hosts (one query for all of them). */
export function hostsSelector(metric: string, hosts: EnergyHost[], extra = ''): string {
  const re = hosts.map((h) => `(?:${instanceRegex(h)})`).join('|');
  return `${metric}{instance=~${promLabelValue(re)}${extra ? `,${extra}` : ''}}`;
}

/** The series of `items` that belong to host `h`. */
export function seriesOf(items: MatrixItem[], h: EnergyHost): MatrixItem[] {
  const re = new RegExp(`^(?:${instanceRegex(h)})$`);
  return items.filter((i) => re.test(i.metric.instance ?? ''));
}

export interface CounterFigure {
  /** Sum over the host's series of the counter's increase over the window (in the counter's unit). */
  value: number | null;
  coverage: EnergyCoverage;
  series: number;
}

/**
 * The summed increase over `window` of a host's counter series. `pad` seconds of samples on each
 * side let the edges be interpolated; `step` is the scrape interval (gap threshold 2.5 × step,
 * extrapolation at most one step).
 */
export function counterFigure(
  series: MatrixItem[],
  window: EnergyWindow,
  step: number,
  maxRangeOf: (m: MatrixItem) => number | undefined = () => undefined,
): CounterFigure {
  let total = 0;
  let any = false;
  let resets = 0;
  let cov: EnergyCoverage = { samples: 0, gaps: 0, coveredSeconds: 0, fraction: 0 };
  for (const s of series) {
    const d = counterDeltaOverWindow(s.values, window, { maxRange: maxRangeOf(s), maxExtrapolate: step });
    const c = coverage(
      s.values.map((v) => v[0]),
      window,
      2.5 * step,
    );
    if (!d) continue;
    any = true;
    total += d.delta;
    resets += d.resets + d.wraps;
    // A host's coverage is that of its worst-covered series.
    if (cov.samples === 0 || c.fraction < cov.fraction) cov = c;
  }
  return { value: any ? total : null, coverage: { ...cov, resets }, series: series.length };
}

/** Fetch raw samples of `sel` over the window padded by `pad` seconds on both sides. */
export async function fetchPadded(prom: PrometheusClient, sel: string, window: EnergyWindow, pad: number): Promise<MatrixItem[]> {
  return prom.samples(sel, window.start - pad, window.end + pad);
}
