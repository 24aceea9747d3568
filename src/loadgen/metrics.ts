import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LatencyHistogram } from './histogram.js';

/** Prometheus buckets of the exported latency histogram, in seconds. */
export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30];

export interface LoadgenMetrics {
  registry: Registry;
  sent: Counter<'phase'>;
  acked: Counter<'phase'>;
  failed: Counter<'phase'>;
  bytesAcked: Counter<'phase'>;
  backlog: Gauge;
  targetRate: Gauge;
  inflight: Gauge;
}

/**
 * The generator's metrics, with `instance_id` and `topic` as default labels. The latency
 * histogram is not observed message by message (too costly at 10^5 msg/s): at scrape time its
 * buckets are read from the generator's own exact histogram of the measured phase.
 */
export function createLoadgenMetrics(labels: Record<string, string>, latency: () => LatencyHistogram): LoadgenMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const c = (name: string, help: string): Counter<'phase'> => new Counter({ name, help, labelNames: ['phase'], registers: [registry] });
  const m: LoadgenMetrics = {
    registry,
    sent: c('greenrace_loadgen_messages_sent_total', 'Messages handed to the Kafka client'),
    acked: c('greenrace_loadgen_messages_acked_total', 'Messages acknowledged by the brokers'),
    failed: c('greenrace_loadgen_messages_failed_total', 'Messages whose send failed'),
    bytesAcked: c('greenrace_loadgen_bytes_acked_total', 'Payload bytes acknowledged'),
    backlog: new Gauge({ name: 'greenrace_loadgen_backlog_messages', help: 'Messages due but not yet sent', registers: [registry] }),
    targetRate: new Gauge({ name: 'greenrace_loadgen_target_rate', help: 'Target rate of this instance, msg/s', registers: [registry] }),
    inflight: new Gauge({ name: 'greenrace_loadgen_inflight_requests', help: 'Produce requests awaiting an ack', registers: [registry] }),
  };
  new Histogram({
    name: 'greenrace_loadgen_latency_seconds',
    help: 'Send-to-ack latency of measured messages, from the intended send time (native, throttled) or the actual send; at the end also the censored backlog',
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
    collect() {
      fillFromHistogram(this as unknown as HistogramInternals, latency());
    },
  });
  return m;
}

interface HistogramInternals {
  upperBounds: number[];
  hashMap: Record<string, { labels: object; bucketValues: Record<number, number>; sum: number; count: number }>;
  reset(): void;
  zero(labels: object): void;
}

/** Replace the prom-client histogram's single series with counts read from `h` (µs). */
function fillFromHistogram(ph: HistogramInternals, h: LatencyHistogram): void {
  ph.reset();
  ph.zero({});
  const entry = Object.values(ph.hashMap)[0];
  if (!entry) return;
  const cum = h.countsAtOrBelow(ph.upperBounds.map((ub) => ub * 1e6));
  let below = 0;
  ph.upperBounds.forEach((ub, i) => {
    entry.bucketValues[ub] = cum[i]! - below;
    below = cum[i]!;
  });
  entry.sum = (h.mean() * h.count) / 1e6;
  entry.count = h.count;
}
