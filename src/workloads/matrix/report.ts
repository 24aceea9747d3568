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
 * What the matrix's values are: always request/response round trips, in microseconds (the seed's
 * metrics are netperf TCP_RR round trips). `round_trip`: the tool timed whole round trips
 * (netperf); `round_trip_2x_half`: the tool reports half round trips (sockperf), doubled here.
 */
export type MatrixBasis = 'round_trip' | 'round_trip_2x_half';

export const basisOf = (latencyBasis: 'round-trip' | 'half-round-trip' | undefined): MatrixBasis => (latencyBasis === 'half-round-trip' ? 'round_trip_2x_half' : 'round_trip');

/** A tool's percentiles as round trips (half round trips doubled: min, max and mean too). */
export function toRoundTrip(l: LatencyPercentiles, basis: MatrixBasis): LatencyPercentiles {
  if (basis === 'round_trip') return l;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(l)) if (typeof v === 'number') out[k] = v * 2;
  return out as unknown as LatencyPercentiles;
}

/**
 * The CSV of the netperf-to-Prometheus document: `origin,destination,<prefix>_p50_latency_microseconds,
 * <prefix>_p90_…,<prefix>_p99_…`, one row per measured ordered pair (failed pairs are left out), plus
 * two columns saying what the values are: `tool` and `latency` (`round_trip`, or
 * `round_trip_2x_half` for sockperf's half round trips doubled).
 */
export function matrixCsv(rows: MatrixRow[], prefix: string, tool: string, basis: MatrixBasis): string {
  const header = ['origin', 'destination', ...PERCENTILES.map((p) => metricName(prefix, p)), 'tool', 'latency'].join(',');
  const lines = rows
    .filter((r) => r.latency)
    .map((r) => [r.origin, r.destination, ...PERCENTILES.map((p) => fmt(r.latency![p])), tool, basis].join(','));
  return [header, ...lines].join('\n') + '\n';
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

/**
 * The gauges pushed for one matrix: three per measured pair (round trips, µs), labelled origin,
 * destination, tool, unit (`microseconds`) and latency (what was timed: see MatrixBasis).
 */
export function matrixGauges(rows: MatrixRow[], prefix: string, tool: string, basis: MatrixBasis): PushedGauge[] {
  const out: PushedGauge[] = [];
  const how = basis === 'round_trip' ? `${tool} request/response round trip` : `request/response round trip (2 × ${tool}'s half round trip)`;
  for (const p of PERCENTILES) {
    for (const r of rows) {
      if (!r.latency) continue;
      out.push({
        name: metricName(prefix, p),
        help: `${p.slice(1)}th percentile of the ${how} from origin to destination, microseconds`,
        value: r.latency[p],
        labels: { origin: r.origin, destination: r.destination, tool, unit: 'microseconds', latency: basis },
      });
    }
  }
  return out;
}
