import type { PushedGauge } from '../../metrics/pushgateway.js';
import type { LatencyPercentiles } from '../net/tools/types.js';

export interface MatrixRow {
  origin: string;
  destination: string;
  latency: LatencyPercentiles | null;
  /** Set when the measurement of this pair failed. */
  error?: string;
}

export const PERCENTILES = ['p50', 'p90', 'p99'] as const;

/** `netperf_p50_latency_microseconds`, ... (the names of the netperf-to-Prometheus document). */
export const metricName = (prefix: string, p: (typeof PERCENTILES)[number]): string => `${prefix}_${p}_latency_microseconds`;

/**
 * The CSV of the netperf-to-Prometheus document: `origin,destination,<prefix>_p50_latency_microseconds,
 * <prefix>_p90_…,<prefix>_p99_…`, one row per measured ordered pair (failed pairs are left out).
 */
export function matrixCsv(rows: MatrixRow[], prefix: string): string {
  const header = ['origin', 'destination', ...PERCENTILES.map((p) => metricName(prefix, p))].join(',');
  const lines = rows
    .filter((r) => r.latency)
    .map((r) => [r.origin, r.destination, ...PERCENTILES.map((p) => fmt(r.latency![p]))].join(','));
  return [header, ...lines].join('\n') + '\n';
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

/** The gauges pushed for one matrix: three per measured pair, labelled origin/destination (values unchanged). */
export function matrixGauges(rows: MatrixRow[], prefix: string, tool: string): PushedGauge[] {
  const out: PushedGauge[] = [];
  for (const p of PERCENTILES) {
    for (const r of rows) {
      if (!r.latency) continue;
      out.push({
        name: metricName(prefix, p),
        help: `${p.slice(1)}th percentile of the ${tool} request/response latency from origin to destination, microseconds`,
        value: r.latency[p],
        labels: { origin: r.origin, destination: r.destination, tool },
      });
    }
  }
  return out;
}
