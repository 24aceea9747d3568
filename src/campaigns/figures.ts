/**
 * The figures campaigns summarize, read from one run record (results/<exp>/<id>/run.json). The
 * record's shape is the one src/runs/record.ts writes; this reads it structurally (any workload
 * whose results carry these keys gets statistics and figures) so it needs no import from runs.
 */

/** A run record as campaigns read it (the fields they use). */
export interface RecordLike {
  id: string;
  experiment: string;
  workload: string;
  status: string;
  startedAt: string;
  endedAt?: string;
  parameters: Record<string, unknown>;
  window?: { start: number; end: number; warmupStart?: number };
  results?: Record<string, unknown>;
  energy?: { totalJoules: number | null; dynamicJoules?: number | null; sources?: string[] };
  campaign?: { kind: 'search' | 'sweep'; id: string; point?: string; repetition?: number; trial?: number };
}

export interface RunFigures {
  /** Achieved throughput over the measurement window (msg/s for ingest). */
  throughput: number | null;
  target: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  /** Total energy over the window (all physical machines), J. */
  energyJ: number | null;
  /** Energy above the idle baseline over the same window, J. */
  dynamicJ: number | null;
  /** Acknowledged messages per joule of total energy. */
  msgPerJ: number | null;
  /** Messages per joule of dynamic energy. */
  msgPerDynamicJ: number | null;
  messageSize: number | null;
  /** Messages left unsent or unacknowledged at the end, the pipeline's tail included (null: not reported). */
  backlog: number | null;
  /**
   * Per generator: its target rate and the messages it left unsent / unacknowledged, so a backlog
   * rule can leave out the unsent messages due in the last moments of the window (null: not reported).
   */
  senders: SenderBacklog[] | null;
  /** The generator's own verdict: a backlog beyond its grace (see the loadgen's BACKLOG_GRACE_MS). */
  saturated: boolean | null;
  windowSeconds: number | null;
}

/** What one generator left at the end of its window. */
export interface SenderBacklog {
  /** Target rate, msg/s. */
  rate: number;
  unsent: number;
  unacked: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function figuresOf(rec: RecordLike): RunFigures {
  const r = obj(rec.results);
  const lat = obj(r.latency_ms);
  const energyJ = num(r.energy_j) ?? num(rec.energy?.totalJoules);
  const dynamicJ = num(r.dynamic_energy_j) ?? num(r.dynamic_j) ?? num(rec.energy?.dynamicJoules);
  const acked = num(r.messages_acked);
  const unsent = num(r.messages_unsent);
  const unacked = num(r.messages_unacked);
  const backlog = unsent === null && unacked === null ? null : (unsent ?? 0) + (unacked ?? 0);
  const saturated = typeof r.saturated === 'boolean' ? r.saturated : null;
  const gens = Array.isArray(r.generators) ? (r.generators as unknown[]).map(obj) : [];
  const target = num(r.target_rate) ?? num(rec.parameters.load);
  const senders: SenderBacklog[] | null =
    gens.length && gens.every((g) => num(g.rate) !== null && num(g.unsent) !== null)
      ? gens.map((g) => ({ rate: num(g.rate)!, unsent: num(g.unsent)!, unacked: num(g.unacked) ?? 0 }))
      : backlog !== null && target !== null
        ? [{ rate: target, unsent: unsent ?? 0, unacked: unacked ?? 0 }]
        : null;
  const windowSeconds = num(r.window_seconds) ?? (rec.window ? rec.window.end - rec.window.start : null);
  return {
    throughput: num(r.achieved_rate),
    target,
    p50Ms: num(lat.p50),
    p95Ms: num(lat.p95),
    p99Ms: num(lat.p99),
    p999Ms: num(lat.p999),
    energyJ,
    dynamicJ,
    msgPerJ: num(r.msg_per_j) ?? (acked !== null && energyJ ? acked / energyJ : null),
    msgPerDynamicJ: num(r.msg_per_dynamic_j) ?? (acked !== null && dynamicJ && dynamicJ > 0 ? acked / dynamicJ : null),
    messageSize: num(rec.parameters.message_size),
    backlog,
    senders,
    saturated,
    windowSeconds,
  };
}

/** The statistics a sweep point reports, with the record key each comes from. */
export const POINT_FIGURES = [
  { key: 'throughput', label: 'throughput', unit: 'msg/s' },
  { key: 'p50Ms', label: 'p50 latency', unit: 'ms' },
  { key: 'p99Ms', label: 'p99 latency', unit: 'ms' },
  { key: 'energyJ', label: 'energy', unit: 'J' },
  { key: 'dynamicJ', label: 'dynamic energy', unit: 'J' },
  { key: 'msgPerJ', label: 'messages per joule', unit: 'msg/J' },
] as const satisfies ReadonlyArray<{ key: keyof RunFigures; label: string; unit: string }>;

export type PointFigureKey = (typeof POINT_FIGURES)[number]['key'];
