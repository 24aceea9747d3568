import type { RunRecord } from '../../runs/record.js';

/** The runs.csv line of an ingest run (every finished run has one, whatever its status). */
export function ingestCsvRow(r: RunRecord): Record<string, unknown> {
  const p = r.parameters as Record<string, unknown>;
  const x = (r.results ?? {}) as Record<string, unknown>;
  const lat = x.latency_ms as Record<string, number> | undefined;
  const w = r.window;
  return {
    run_id: r.id,
    started_at: r.startedAt,
    status: r.status,
    broker: p.broker,
    driver: p.driver,
    load: p.load,
    message_size: p.message_size,
    instances: p.instances,
    partitions: p.partitions,
    acks: p.acks,
    duration_s: p.duration,
    warmup_s: p.warmup,
    window_start: w ? new Date(w.start * 1000).toISOString() : undefined,
    window_end: w ? new Date(w.end * 1000).toISOString() : undefined,
    achieved_rate: x.achieved_rate,
    mb_per_s: x.mb_per_s,
    acked: x.messages_acked,
    failed: x.messages_failed,
    p50_ms: lat?.p50,
    p95_ms: lat?.p95,
    p99_ms: lat?.p99,
    p999_ms: lat?.p999,
    max_ms: lat?.max,
    energy_j: x.energy_j,
    idle_j: x.idle_j,
    dynamic_j: x.dynamic_j,
    energy_source: Array.isArray(x.energy_sources) ? (x.energy_sources as string[]).join('+') : '',
    energy_kind: x.energy_kind,
    energy_coverage: x.energy_coverage,
    msg_per_j: x.msg_per_j,
    msg_per_dynamic_j: x.msg_per_dynamic_j,
    j_per_mb: x.j_per_mb,
    error: r.error?.code,
  };
}
