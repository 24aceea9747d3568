import { LatencyHistogram, type HistogramJson } from './histogram.js';

export type LoadgenStatus = 'completed' | 'aborted' | 'failed';
export type LoadgenDriver = 'native' | 'perf-test';

export interface LatencyFigures {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Number of latency samples behind the figures. */
  samples: number;
}

/**
 * What one generator instance measured, written as JSON at the end of its run (also when it
 * was stopped or failed). The native generator and the perf-test driver write the same shape.
 */
export interface LoadgenSummary {
  schema: 'greenrace.loadgen/1';
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
    bytesAcked: number;
  };
  warmup: { sent: number; acked: number; failed: number };
  achieved: { msgPerSec: number; mbPerSec: number };
  /** Send-to-ack latency in milliseconds, measured from the intended send time. */
  latencyMs: LatencyFigures;
  /** Exact histogram (µs) when the driver has one, so instances merge exactly. */
  histogram?: HistogramJson;
  /** How percentiles were obtained: exact histogram, or the driver's own figures. */
  latencySource: 'histogram' | 'perf-test';
  cpu?: { userS: number; systemS: number };
  errors: Array<{ message: string; count: number }>;
  client: { name: string; version: string };
  /** Caveats about the figures (e.g. percentiles that include the warm-up). */
  notes?: string[];
  /** Periodic lines (perf-test driver) or per-second acks (native), for plots. */
  series?: Array<{ t: number; acked: number; rate: number; avgMs?: number; maxMs?: number }>;
}

export const MB = 1024 * 1024;

/** What both drivers were asked to do, as written into every summary's `config`. */
export interface SummaryConfigInput {
  instance: string;
  topic: string;
  bootstrap: string[];
  rate: number;
  size: number;
  acks: string;
  lingerMs: number;
  batchBytes: number;
  warmupS: number;
  durationS: number;
}

/** The part of a summary both drivers fill the same way. */
export function summaryHead(
  driver: LoadgenDriver,
  o: SummaryConfigInput,
  extra: { status: LoadgenStatus; failure?: { code: string; message: string }; keys: string; startAt: number; host: string },
): Pick<LoadgenSummary, 'schema' | 'driver' | 'instance' | 'host' | 'status' | 'error' | 'config'> {
  return {
    schema: 'greenrace.loadgen/1',
    driver,
    instance: o.instance,
    host: extra.host,
    status: extra.status,
    ...(extra.failure ? { error: extra.failure } : {}),
    config: {
      topic: o.topic,
      bootstrap: o.bootstrap,
      rate: o.rate,
      messageSize: o.size,
      acks: o.acks,
      keys: extra.keys,
      lingerMs: o.lingerMs,
      batchBytes: o.batchBytes,
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
  latencyMs: LatencyFigures;
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
  if (list.length === 0) throw new Error('no summaries to merge');
  const drivers = new Set(list.map((s) => s.driver));
  const statuses: Record<string, number> = {};
  const counts = { sent: 0, acked: 0, failed: 0, unsent: 0, bytesAcked: 0 };
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
    const max = (k: keyof LatencyFigures): number => Math.max(0, ...withLat.map((s) => s.latencyMs[k]));
    const samples = withLat.reduce((a, s) => a + s.latencyMs.samples, 0);
    const mean = samples > 0 ? withLat.reduce((a, s) => a + s.latencyMs.mean * s.latencyMs.samples, 0) / samples : 0;
    latencyMs = { p50: max('p50'), p95: max('p95'), p99: max('p99'), p999: max('p999'), max: max('max'), mean, samples };
    latencyMerge = withLat.length === 0 ? 'none' : withLat.length === 1 ? 'single-instance' : 'max-of-instances';
  }
  return {
    instances: list.length,
    statuses,
    driver: drivers.size === 1 ? list[0]!.driver : 'mixed',
    window: { start, end },
    target,
    counts,
    warmup,
    achieved: { msgPerSec: counts.acked / seconds, mbPerSec: counts.bytesAcked / MB / seconds },
    latencyMs,
    latencyMerge,
    errors: [...errs].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count),
    cpu,
  };
}

/** The one line a generator prints when it ends (the JSON summary holds the rest). */
export function summaryLine(s: LoadgenSummary): string {
  const l = s.latencyMs;
  return (
    `${s.status}: ${s.counts.acked} acked (${s.achieved.msgPerSec.toFixed(1)} msg/s, ${s.achieved.mbPerSec.toFixed(2)} MB/s), ` +
    `${s.counts.failed} failed, ${s.counts.unsent} unsent; latency ms p50 ${l.p50} p99 ${l.p99} p99.9 ${l.p999} max ${l.max}`
  );
}
