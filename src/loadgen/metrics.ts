import { createServer, type Server } from 'node:http';
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
    help: 'Send-to-ack latency from the intended send time (measured phase only)',
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
  let below = 0;
  for (const ub of ph.upperBounds) {
    const cum = h.countAtOrBelow(Math.floor(ub * 1e6));
    entry.bucketValues[ub] = cum - below;
    below = cum;
  }
  entry.sum = h.sum / 1e6;
  entry.count = h.count;
}

/**
 * The start trigger: a generator started without a fixed start time reports `GET /ready` (200 once
 * it reached the brokers) and takes its shared start time from `POST /start?at=<epoch ms>`.
 */
export class StartTrigger {
  ready = false;
  private resolveAt!: (at: number) => void;
  readonly at: Promise<number> = new Promise((r) => (this.resolveAt = r));
  private fired = false;
  fire(at: number): boolean {
    if (this.fired || !Number.isFinite(at) || at <= 0) return false;
    this.fired = true;
    this.resolveAt(at);
    return true;
  }
}

/** Serve /metrics on `port` (0 = any free port), and the start trigger when given. */
export async function serveMetrics(registry: Registry, port: number, host = '0.0.0.0', trigger?: StartTrigger): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (trigger && url.pathname === '/ready') {
      res.writeHead(trigger.ready ? 200 : 503).end(trigger.ready ? 'ready\n' : 'not ready\n');
      return;
    }
    if (trigger && url.pathname === '/start' && req.method === 'POST') {
      const ok = trigger.ready && trigger.fire(Number(url.searchParams.get('at')));
      res.writeHead(ok ? 200 : 409).end(ok ? 'started\n' : 'not ready, already started, or bad ?at=\n');
      return;
    }
    if (url.pathname !== '/metrics' && url.pathname !== '/') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}
