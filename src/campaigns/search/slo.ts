/**
 * The service-level objective a search trial must meet to count as sustainable. Pure.
 *
 *  - throughput: achieved ≥ min_ratio × target over the measurement window (GreenFlow: 0.95);
 *  - latency (optional): p99 ≤ p99_ms;
 *  - backlog: no messages left unsent or unacknowledged at the end (the generator's honest
 *    saturation flag; `max_backlog` tolerates a few, as OMB's 1,000-message limit does);
 *  - lag trend (optional, when a consumer runs): the slope of the consumer lag over the window
 *    stays ≤ max_lag_slope messages per second (Theodolite's lag-trend SLO).
 */
export interface Slo {
  minRatio: number;
  p99Ms?: number;
  /** Check the backlog at the end of the window. */
  noBacklog: boolean;
  maxBacklog: number;
  maxLagSlope?: number;
}

/** What a trial measured, in the workload's own unit (msg/s for ingest). */
export interface TrialFigures {
  target: number;
  achieved: number | null;
  p99Ms?: number | null;
  /** Messages due in the window but never sent or never acknowledged (null: not reported). */
  backlog?: number | null;
  /** True when the generator says it did not keep up. */
  saturated?: boolean | null;
  /** Consumer lag slope over the window, messages per second (null: no consumer). */
  lagSlope?: number | null;
}

export interface SloVerdict {
  pass: boolean;
  /** Why it failed (empty when it passed), one short phrase each. */
  reasons: string[];
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100));

export function evaluateSlo(slo: Slo, f: TrialFigures): SloVerdict {
  const reasons: string[] = [];
  if (f.achieved === null || !Number.isFinite(f.achieved)) reasons.push('no throughput measured');
  else if (f.achieved < slo.minRatio * f.target) {
    reasons.push(`achieved ${fmt(f.achieved)} < ${Math.round(slo.minRatio * 100)} % of target ${fmt(f.target)}`);
  }
  if (slo.p99Ms !== undefined) {
    if (f.p99Ms === null || f.p99Ms === undefined) reasons.push('no p99 measured');
    else if (f.p99Ms > slo.p99Ms) reasons.push(`p99 ${fmt(f.p99Ms)} ms > ${fmt(slo.p99Ms)} ms`);
  }
  if (slo.noBacklog) {
    if (typeof f.backlog === 'number') {
      if (f.backlog > slo.maxBacklog) reasons.push(`backlog ${f.backlog} messages at the end${slo.maxBacklog ? ` (> ${slo.maxBacklog})` : ''}`);
    } else if (f.saturated === true) reasons.push('saturated (backlog at the end)');
    else if (f.saturated !== false) reasons.push('no backlog figure reported');
  }
  if (slo.maxLagSlope !== undefined) {
    if (f.lagSlope === null || f.lagSlope === undefined) reasons.push('no consumer lag measured');
    else if (f.lagSlope > slo.maxLagSlope) reasons.push(`lag grows ${fmt(f.lagSlope)} msg/s > ${fmt(slo.maxLagSlope)}`);
  }
  return { pass: reasons.length === 0, reasons };
}

/**
 * Contradictions in an SLO, found before anything runs (one message each, naming the key).
 * `where(key)` names the file and key for the message.
 */
export function sloProblems(slo: Slo, opts: { hasConsumer: boolean; reportsBacklog: boolean; reportsP99: boolean }): Array<{ key: string; message: string }> {
  const out: Array<{ key: string; message: string }> = [];
  if (!(slo.minRatio > 0 && slo.minRatio <= 1)) {
    out.push({ key: 'min_ratio', message: `must be in (0, 1]: a trial cannot be required to achieve more than its target (got ${slo.minRatio})` });
  }
  if (slo.p99Ms !== undefined && !(slo.p99Ms > 0)) out.push({ key: 'p99_ms', message: `must be > 0 ms (got ${slo.p99Ms})` });
  if (slo.p99Ms !== undefined && !opts.reportsP99) out.push({ key: 'p99_ms', message: 'this workload measures no p99 latency; remove the bound' });
  if (!slo.noBacklog && slo.maxBacklog > 0) out.push({ key: 'max_backlog', message: 'is set but no_backlog is false: either check the backlog or drop max_backlog' });
  if (slo.noBacklog && !opts.reportsBacklog) out.push({ key: 'no_backlog', message: 'this workload reports no backlog; set no_backlog: false' });
  if (slo.maxLagSlope !== undefined && !opts.hasConsumer) out.push({ key: 'max_lag_slope', message: 'needs a consumer, and this run has none; remove it' });
  return out;
}
