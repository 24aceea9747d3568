import { writeFileAtomic } from '../core/files.js';
import { RunError } from '../core/errors.js';
import { LatencyHistogram, type HistogramJson } from './histogram.js';
import type { DriverName, GeneratorSettings } from './plan.js';

export type LoadgenStatus = 'completed' | 'aborted' | 'failed';
export type LoadgenDriver = DriverName;

export const LOADGEN_SUMMARY_SCHEMA = 'greenrace.loadgen/2';

/**
 * Messages still unsent when the window closes but due less than this long before its end are
 * the pipeline's tail (queued behind the requests in flight), not a backlog. 250 ms: a sender
 * that keeps up is a few ms to a few tens of ms behind at any instant (15–65 ms measured on the
 * local Kafka at 4,000–7,000 msg/s, p99 140–430 ms), while one 5 % over capacity in a 1 s + 4 s
 * trial is already ≈ 240 ms behind by its end — so the grace hides the tail and little else.
 */
export const BACKLOG_GRACE_MS = 250;

/** The backlog a generator left at the end of its window (see `SendAccount.overdue`). */
export interface BacklogFigures {
  /** Unsent messages due less than this before the end are not counted. */
  graceMs: number;
  /** Never acknowledged, plus never sent though due more than `graceMs` before the end. */
  overdue: number;
  /** How far behind its schedule the sender was when sending ended, ms (null: no schedule). */
  senderLagMs: number | null;
}

export interface LatencyFigures {
  /** Percentiles; null when the source gave none (a perf-test tool stopped before its final line). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number;
  mean: number;
  /** Number of latency samples behind the figures (censored ones included). */
  samples: number;
  /** How many samples are censored (lower bounds: messages never sent or never acknowledged). */
  censored: number;
}

/**
 * What the latency figures measure.
 *  - `open` loop, from the `intended` send time (native generator with a target rate): a message
 *    held up by the ones before it shows its whole wait; the backlog left at the end is counted at
 *    its censored latency (`censoredAt` − intended time).
 *  - `closed` loop, from the actual `send` (perf-test, and the native generator unthrottled): a
 *    sender that waits for acks does not send the messages it should have sent meanwhile, so their
 *    wait never shows (coordinated omission): these figures understate latency under load.
 */
export interface LatencyBasis {
  loop: 'open' | 'closed';
  from: 'intended' | 'send';
  /** Exact HdrHistogram of the driver, or the percentiles the tool printed. */
  source: 'histogram' | 'perf-test';
  /** Epoch ms at which censored values were taken (when the generator stopped waiting). */
  censoredAt?: number;
}

/**
 * What one generator instance measured, written as JSON at the end of its run (also when it
 * was stopped or failed). Every driver writes this shape.
 */
export interface LoadgenSummary {
  schema: typeof LOADGEN_SUMMARY_SCHEMA;
  driver: LoadgenDriver;
  instance: string;
  host: string;
  status: LoadgenStatus;
  error?: { code: string; message: string };
  config: {
    topic: string;
    bootstrap: string[];
    rate: number;
    messageSize: number;
    acks: string;
    keys: string;
    lingerMs: number;
    batchBytes: number;
    /** Native driver: requests in flight per broker connection, connections per broker. */
    maxInflight?: number;
    connections?: number;
    warmupS: number;
    durationS: number;
    startAt: number;
  };
  /** Measurement window, epoch ms: intended [start, end]; `end` is earlier when stopped. */
  window: { start: number; end: number };
  /** Measured phase only (warm-up excluded). */
  target: { messages: number; rate: number };
  counts: {
    sent: number;
    acked: number;
    failed: number;
    /** Due in the measured phase but never sent (the generator or the broker fell behind). */
    unsent: number;
    /** Measured messages sent but not acknowledged when the generator stopped waiting. */
    unacked: number;
    bytesAcked: number;
  };
  warmup: { sent: number; acked: number; failed: number };
  achieved: { msgPerSec: number; mbPerSec: number };
  /**
   * The run did not keep up: it left a backlog (`backlog.overdue` > 0: messages never
   * acknowledged, or never sent though due more than `backlog.graceMs` before the end). Every
   * message not completed (`counts.unsent`, `counts.unacked`, the tail included) is in the latency
   * figures at its censored latency, so percentiles at and above the censored share are lower bounds.
   */
  saturated: boolean;
  backlog: BacklogFigures;
  /** Send-to-ack latency in milliseconds (see `latency` for what it measures). */
  latencyMs: LatencyFigures;
  latency: LatencyBasis;
  /** Exact histogram (µs) when the driver has one, so instances merge exactly. */
  histogram?: HistogramJson;
  cpu?: { userS: number; systemS: number };
  errors: Array<{ message: string; count: number }>;
  client: { name: string; version: string };
  /** Caveats about the figures (e.g. percentiles that include the warm-up). */
  notes?: string[];
  /** Periodic lines (perf-test driver) or per-second acks (native), for plots. */
  series?: Array<{ t: number; acked: number; rate: number; avgMs?: number; maxMs?: number }>;
  /** A ramp: per step, its target rate, acks in its window, achieved rate, latency and backlog at its bounds. */
  steps?: RampStepSummary[];
}

export interface RampStepSummary {
  /** Target rate of the step, msg/s. */
  rate: number;
  /** Epoch ms. */
  start: number;
  end: number;
  /** Messages due in the step. */
  due: number;
  /** Acknowledgements that arrived in the step's window. */
  acked: number;
  /** acked / the step's seconds. */
  achieved: number;
  /** Latency of the messages due in the step (from their intended time; censored ones included). */
  latencyMs: LatencyFigures;
  histogram?: HistogramJson;
  /** Messages due but not acknowledged at the step's start and end. */
  backlogStart: number;
  backlogEnd: number;
}

/** A parsed summary of this version, or undefined (another version, or not a summary). */
export function asLoadgenSummary(x: unknown): LoadgenSummary | undefined {
  return x && typeof x === 'object' && (x as { schema?: unknown }).schema === LOADGEN_SUMMARY_SCHEMA ? (x as LoadgenSummary) : undefined;
}

export const MB = 1024 * 1024;

/** The part of a summary every driver fills the same way (written by the shared runner). */
export function summaryHead(
  driver: LoadgenDriver,
  o: GeneratorSettings,
  extra: { status: LoadgenStatus; failure?: { code: string; message: string }; startAt: number; host: string; keys?: string },
): Pick<LoadgenSummary, 'schema' | 'driver' | 'instance' | 'host' | 'status' | 'error' | 'config'> {
  return {
    schema: LOADGEN_SUMMARY_SCHEMA,
    driver,
    instance: o.instance,
    host: extra.host,
    status: extra.status,
    ...(extra.failure ? { error: extra.failure } : {}),
    config: {
      topic: o.topic,
      bootstrap: o.bootstrap,
      rate: o.rate,
      messageSize: o.messageSize,
      acks: o.acks,
      keys: extra.keys ?? o.keys,
      lingerMs: o.lingerMs,
      batchBytes: o.batchBytes,
      ...(o.driver.name === 'native' ? { maxInflight: o.driver.maxInflight, connections: o.driver.connections } : {}),
      warmupS: o.warmupS,
      durationS: o.durationS,
      startAt: extra.startAt,
    },
  };
}

export function latencyFromHistogram(h: LatencyHistogram): LatencyFigures {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    p50: ms(h.percentile(50)),
    p95: ms(h.percentile(95)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.max),
    mean: ms(h.mean()),
    samples: h.count,
    censored: h.censored,
  };
}

export interface MergedSummary {
  instances: number;
  statuses: Record<string, number>;
  driver: LoadgenDriver | 'mixed';
  window: { start: number; end: number };
  target: { messages: number; rate: number };
  counts: LoadgenSummary['counts'];
  warmup: LoadgenSummary['warmup'];
  achieved: { msgPerSec: number; mbPerSec: number };
  /** Any instance saturated (its backlog is in the latency figures, censored). */
  saturated: boolean;
  /** Overdue summed, the largest grace and sender lag. */
  backlog: BacklogFigures;
  latencyMs: LatencyFigures;
  /** What the latency measures; `mixed` when the instances' bases differ. */
  latency: Pick<LatencyBasis, 'loop' | 'from'> | 'mixed';
  /** `histogram`: exact merge; `max-of-instances`: an upper bound from per-instance figures. */
  latencyMerge: 'histogram' | 'single-instance' | 'max-of-instances' | 'none';
  errors: Array<{ message: string; count: number }>;
  cpu: { userS: number; systemS: number } | null;
}

/**
 * Merge the summaries of all instances of one run. Counts add up; rates are computed over the
 * union of the windows; latency percentiles come from the merged histogram when every instance
 * has one, else the maximum of each instance's percentile (an upper bound, said so).
 */
export function mergeSummaries(list: LoadgenSummary[]): MergedSummary {
  if (list.length === 0) throw new RunError('loadgen.no_summaries', 'no generator summaries to merge');
  const drivers = new Set(list.map((s) => s.driver));
  const statuses: Record<string, number> = {};
  const counts = { sent: 0, acked: 0, failed: 0, unsent: 0, unacked: 0, bytesAcked: 0 };
  const warmup = { sent: 0, acked: 0, failed: 0 };
  const target = { messages: 0, rate: 0 };
  const errs = new Map<string, number>();
  let start = Infinity;
  let end = -Infinity;
  let cpu: { userS: number; systemS: number } | null = { userS: 0, systemS: 0 };
  for (const s of list) {
    statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) counts[k] += s.counts[k];
    for (const k of Object.keys(warmup) as Array<keyof typeof warmup>) warmup[k] += s.warmup[k];
    target.messages += s.target.messages;
    target.rate += s.target.rate;
    start = Math.min(start, s.window.start);
    end = Math.max(end, s.window.end);
    for (const e of s.errors) errs.set(e.message, (errs.get(e.message) ?? 0) + e.count);
    if (cpu && s.cpu) {
      cpu.userS += s.cpu.userS;
      cpu.systemS += s.cpu.systemS;
    } else cpu = null;
  }
  const seconds = Math.max(0.001, (end - start) / 1000);
  let latencyMs: LatencyFigures;
  let latencyMerge: MergedSummary['latencyMerge'];
  if (list.every((s) => s.histogram)) {
    const h = new LatencyHistogram();
    for (const s of list) h.add(LatencyHistogram.fromJSON(s.histogram!));
    latencyMs = latencyFromHistogram(h);
    latencyMerge = 'histogram';
  } else {
    const withLat = list.filter((s) => s.latencyMs.samples > 0);
    // An upper bound over instances; null when no instance has the percentile.
    const max = (k: 'p50' | 'p95' | 'p99' | 'p999'): number | null => {
      const v = withLat.map((s) => s.latencyMs[k]).filter((x): x is number => x !== null);
      return v.length ? Math.max(...v) : null;
    };
    const samples = withLat.reduce((a, s) => a + s.latencyMs.samples, 0);
    const censored = withLat.reduce((a, s) => a + s.latencyMs.censored, 0);
    const mean = samples > 0 ? withLat.reduce((a, s) => a + s.latencyMs.mean * s.latencyMs.samples, 0) / samples : 0;
    const maxMs = Math.max(0, ...list.map((s) => s.latencyMs.max));
    latencyMs = { p50: max('p50'), p95: max('p95'), p99: max('p99'), p999: max('p999'), max: maxMs, mean, samples, censored };
    latencyMerge = withLat.length === 0 ? 'none' : withLat.length === 1 ? 'single-instance' : 'max-of-instances';
  }
  const bases = new Set(list.map((s) => `${s.latency.loop}/${s.latency.from}`));
  return {
    instances: list.length,
    statuses,
    driver: drivers.size === 1 ? list[0]!.driver : 'mixed',
    window: { start, end },
    target,
    counts,
    warmup,
    achieved: { msgPerSec: counts.acked / seconds, mbPerSec: counts.bytesAcked / MB / seconds },
    saturated: list.some((s) => s.saturated),
    backlog: {
      graceMs: Math.max(...list.map((s) => s.backlog.graceMs)),
      overdue: list.reduce((a, s) => a + s.backlog.overdue, 0),
      senderLagMs: list.some((s) => typeof s.backlog.senderLagMs === 'number') ? Math.max(...list.map((s) => s.backlog.senderLagMs ?? 0)) : null,
    },
    latencyMs,
    latency: bases.size === 1 ? { loop: list[0]!.latency.loop, from: list[0]!.latency.from } : 'mixed',
    latencyMerge,
    errors: [...errs].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count),
    cpu,
  };
}

/**
 * A ramp's steps over all instances: per step (instances' steps matched by position), the target
 * rate and acks summed, the achieved rate over the step's window, the latency from the merged
 * histograms, and the backlog summed. Empty when the instances ran no ramp (or not the same one).
 */
export function mergeSteps(list: LoadgenSummary[]): Array<Omit<RampStepSummary, 'histogram'>> {
  const n = list[0]?.steps?.length ?? 0;
  if (n === 0 || list.some((s) => s.steps?.length !== n)) return [];
  return Array.from({ length: n }, (_, k) => {
    const st = list.map((s) => s.steps![k]!);
    const start = Math.min(...st.map((x) => x.start));
    const end = Math.max(...st.map((x) => x.end));
    const acked = st.reduce((a, x) => a + x.acked, 0);
    const h = new LatencyHistogram();
    for (const x of st) if (x.histogram) h.add(LatencyHistogram.fromJSON(x.histogram));
    return {
      rate: st.reduce((a, x) => a + x.rate, 0),
      start,
      end,
      due: st.reduce((a, x) => a + x.due, 0),
      acked,
      achieved: end > start ? (acked * 1000) / (end - start) : 0,
      latencyMs: latencyFromHistogram(h),
      backlogStart: st.reduce((a, x) => a + x.backlogStart, 0),
      backlogEnd: st.reduce((a, x) => a + x.backlogEnd, 0),
    };
  });
}

/**
 * How to read a set of latency figures, in words: what it is measured from, and whether a
 * backlog is inside it (then the percentiles are lower bounds, marked `≥`). Every place that
 * prints generator latency uses this, so no p99 is printed without it.
 */
export function describeLatency(x: {
  latency: Pick<LatencyBasis, 'loop' | 'from'> | 'mixed';
  saturated: boolean;
  counts: { unsent: number; unacked: number };
  latencyMs: Pick<LatencyFigures, 'censored'>;
}): { label: string; bound: '' | '≥ ' } {
  const basis =
    x.latency === 'mixed'
      ? 'mixed bases (open- and closed-loop instances)'
      : x.latency.loop === 'open'
        ? 'open-loop, from the intended send time'
        : 'closed-loop, from the actual send (coordinated omission: understates latency under load)';
  if (!x.saturated) {
    const tail = x.counts.unsent + x.counts.unacked;
    if (x.latencyMs.censored > 0 && tail > 0)
      return { label: `${basis}; ${tail} messages due in the last moments of the window were still queued at its end (no backlog), counted at their latency when the run ended (lower bounds)`, bound: '≥ ' };
    return { label: basis, bound: '' };
  }
  const backlog = `SATURATED: ${x.counts.unsent} unsent, ${x.counts.unacked} unacked`;
  if (x.latencyMs.censored > 0) return { label: `${basis}; ${backlog}, counted at their latency when the run ended (lower bounds)`, bound: '≥ ' };
  if (x.latency !== 'mixed' && x.latency.loop === 'closed')
    return { label: `${basis}; SATURATED: the sender fell behind its target rate (${x.counts.unsent} unsent); the wait is not in these figures`, bound: '≥ ' };
  return { label: `${basis}; ${backlog}, not in these figures`, bound: '≥ ' };
}

/** The one line a generator prints when it ends (the JSON summary holds the rest). */
export function summaryLine(s: LoadgenSummary): string {
  const l = s.latencyMs;
  const d = describeLatency(s);
  const v = (x: number | null): string => (x === null ? '—' : `${d.bound}${x}`);
  return (
    `${s.status}: ${s.counts.acked} acked (${s.achieved.msgPerSec.toFixed(1)} msg/s, ${s.achieved.mbPerSec.toFixed(2)} MB/s), ` +
    `${s.counts.failed} failed, ${s.counts.unsent} unsent, ${s.counts.unacked} unacked; ` +
    `latency ms p50 ${v(l.p50)} p99 ${v(l.p99)} p99.9 ${v(l.p999)} max ${v(l.max)} (${d.label})`
  );
}

/** Write the summary (atomically) to `path`, or to stdout. */
export function writeSummary(s: LoadgenSummary, path: string | undefined, out: (text: string) => void = (t) => void process.stdout.write(t)): void {
  const text = JSON.stringify(s, null, 2) + '\n';
  if (path) writeFileAtomic(path, text);
  else out(text);
}
