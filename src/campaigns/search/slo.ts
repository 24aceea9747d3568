/**
 * The service-level objective a search trial must meet to count as sustainable. Pure.
 *
 *  - throughput: achieved ≥ min_ratio × target over the measurement window (GreenFlow: 0.95);
 *  - latency (optional): p99 ≤ p99_ms;
 *  - backlog: no backlog at the end of the window: no message left unacknowledged, and none left
 *    unsent although it was due more than `backlog_grace` before the end (default: the p99 bound
 *    when set — a message not even sent within its latency budget is late — else 250 ms, the
 *    generator's own grace). Unsent messages due in the last moments are the pipeline's tail: a
 *    sender that keeps up is always a few ms of messages behind when the window closes.
 *    `max_backlog` tolerates that many overdue messages, as OMB's 1,000-message limit does.
 *    Why not "the backlog grew over the window": acks in the window = messages due in it − the
 *    growth of (due − acknowledged), exactly, so the throughput ratio already is that test (at
 *    5 %); the backlog rule adds what it cannot see — a sender already behind by the end (lag
 *    accrued in the warm-up too) and messages never acknowledged;
 *  - lag trend (optional, when a consumer runs): the slope of the consumer lag over the window
 *    stays ≤ max_lag_slope messages per second (Theodolite's lag-trend SLO).
 */
export interface Slo {
  minRatio: number;
  p99Ms?: number;
  /** Check the backlog at the end of the window. */
  noBacklog: boolean;
  maxBacklog: number;
  /** Unsent messages due less than this before the end are not backlog (default: see `backlogGraceOf`). */
  backlogGraceMs?: number;
  maxLagSlope?: number;
}

/** The generator's grace (loadgen's BACKLOG_GRACE_MS; a sibling module, so said twice and tested equal). */
export const DEFAULT_BACKLOG_GRACE_MS = 250;

/** The grace a backlog rule uses: explicit, else the p99 bound, else 250 ms. */
export function backlogGraceOf(slo: Slo): number {
  return slo.backlogGraceMs ?? slo.p99Ms ?? DEFAULT_BACKLOG_GRACE_MS;
}

/**
 * Overdue messages from what each generator left: unacknowledged ones, plus unsent ones beyond the
 * last `graceMs` of messages at its rate (a fixed-rate schedule: the unsent messages are the last
 * ones due, evenly spaced, so those due in the last `graceMs` number rate × graceMs).
 */
export function overdueOf(senders: ReadonlyArray<{ rate: number; unsent: number; unacked: number }>, graceMs: number): number {
  return senders.reduce((a, g) => a + g.unacked + Math.max(0, g.unsent - Math.floor((g.rate * graceMs) / 1000)), 0);
}

/** What a trial measured, in the workload's own unit (msg/s for ingest). */
export interface TrialFigures {
  target: number;
  achieved: number | null;
  p99Ms?: number | null;
  /** Messages due in the window but never sent or never acknowledged, the tail included (null: not reported). */
  backlog?: number | null;
  /** Per generator: rate and what it left unsent/unacknowledged (the rule applies the grace to these). */
  senders?: ReadonlyArray<{ rate: number; unsent: number; unacked: number }> | null;
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
    const grace = backlogGraceOf(slo);
    if (f.senders && f.senders.length) {
      const late = overdueOf(f.senders, grace);
      if (late > slo.maxBacklog) reasons.push(`backlog ${late} messages overdue at the end (due > ${fmt(grace)} ms before it${slo.maxBacklog ? `; > ${slo.maxBacklog}` : ''})`);
    } else if (typeof f.backlog === 'number') {
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
export function sloProblems(slo: Slo, opts: { hasConsumer: boolean; reportsBacklog: boolean; reportsP99: boolean; trialSeconds?: number }): Array<{ key: string; message: string }> {
  const out: Array<{ key: string; message: string }> = [];
  if (!(slo.minRatio > 0 && slo.minRatio <= 1)) {
    out.push({ key: 'min_ratio', message: `must be in (0, 1]: a trial cannot be required to achieve more than its target (got ${slo.minRatio})` });
  }
  if (slo.p99Ms !== undefined && !(slo.p99Ms > 0)) out.push({ key: 'p99_ms', message: `must be > 0 ms (got ${slo.p99Ms})` });
  if (slo.p99Ms !== undefined && !opts.reportsP99) out.push({ key: 'p99_ms', message: 'this workload measures no p99 latency; remove the bound' });
  if (slo.backlogGraceMs !== undefined && !(slo.backlogGraceMs >= 0)) out.push({ key: 'backlog_grace', message: `must be ≥ 0 (got ${slo.backlogGraceMs} ms)` });
  if (!slo.noBacklog && slo.backlogGraceMs !== undefined) out.push({ key: 'backlog_grace', message: 'is set but no_backlog is false: either check the backlog or drop backlog_grace' });
  if (slo.noBacklog && slo.backlogGraceMs !== undefined && opts.trialSeconds !== undefined && slo.backlogGraceMs >= opts.trialSeconds * 1000) {
    out.push({ key: 'backlog_grace', message: `${slo.backlogGraceMs} ms is not shorter than a trial's measured ${opts.trialSeconds} s: it would excuse every unsent message; shorten it or lengthen trial_duration` });
  }
  if (!slo.noBacklog && slo.maxBacklog > 0) out.push({ key: 'max_backlog', message: 'is set but no_backlog is false: either check the backlog or drop max_backlog' });
  if (slo.noBacklog && !opts.reportsBacklog) out.push({ key: 'no_backlog', message: 'this workload reports no backlog; set no_backlog: false' });
  if (slo.maxLagSlope !== undefined && !opts.hasConsumer) out.push({ key: 'max_lag_slope', message: 'needs a consumer, and this run has none; remove it' });
  return out;
}
