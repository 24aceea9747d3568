/**
 * Synthetic results for report tests: run records written with src/runs/record.ts (the shape every
 * run writes), a sweep (2 message sizes × 2 partition counts × 3 repetitions, with its sweep.json
 * and statistics) and two searches (their trials are run records too). Numbers follow a simple
 * known model so tests can check what the figures show: throughput = target below the capacity,
 * energy = (idle + per-message cost) × window.
 */
import { saveRunRecord, type RunRecord } from '../../src/runs/record.js';
import { expandGrid, scheduleRuns } from '../../src/campaigns/grid.js';
import { pointStats, sweepCsv } from '../../src/campaigns/points.js';
import { saveSearch, saveSweep, type SearchRecord, type SweepRecord, type SweepRunEntry } from '../../src/campaigns/records.js';
import type { RecordLike } from '../../src/campaigns/figures.js';

export const SYNTH_IDLE_W = 40;
export const SYNTH_UJ_PER_MSG = (size: number): number => 20 + size / 64;

let clock = Date.parse('2026-11-30T10:00:00Z') / 1000;
let seq = 0;

function runRecord(exp: string, p: { load: number; size: number; partitions: number; capacity: number; jitter: number }, campaign?: RecordLike['campaign']): RunRecord & { campaign?: RecordLike['campaign'] } {
  const id = `20261130-synth-${String(++seq).padStart(3, '0')}`;
  const duration = 20;
  const start = clock + 5;
  clock += 40;
  const achieved = Math.min(p.load, p.capacity) * (1 + p.jitter);
  const saturated = p.load > p.capacity;
  const acked = Math.round(achieved * duration);
  const dynamicJ = (acked * SYNTH_UJ_PER_MSG(p.size)) / 1e6;
  const energyJ = SYNTH_IDLE_W * duration + dynamicJ;
  const rho = Math.min(p.load / p.capacity, 0.99);
  const p50 = 2 / (1 - rho);
  return {
    schema: 'greenrace.run/1',
    id,
    experiment: exp,
    workload: 'ingest',
    status: 'completed',
    startedAt: new Date((start - 5) * 1000).toISOString(),
    endedAt: new Date((start + duration + 5) * 1000).toISOString(),
    parameters: { broker: 'kafka', driver: 'native', load: p.load, message_size: p.size, partitions: p.partitions, instances: 1, acks: 'all', duration, warmup: 5 },
    window: { start, end: start + duration, warmupStart: start - 5 },
    results: {
      target_rate: p.load,
      achieved_rate: achieved,
      messages_acked: acked,
      messages_unsent: saturated ? Math.round((p.load - achieved) * duration) : 0,
      messages_unacked: 0,
      saturated,
      latency_ms: { p50, p95: p50 * 2, p99: p50 * 3, p999: p50 * 5, max: p50 * 8, mean: p50 * 1.2 },
      energy_j: energyJ,
      msg_per_j: acked / energyJ,
      window_seconds: duration,
    },
    energy: { totalJoules: energyJ, dynamicJoules: dynamicJ, perHost: [], sources: ['scaphandre'] },
    ...(campaign ? { campaign } : {}),
  };
}

/** Write the synthetic results of experiment `exp` under GREENRACE_RESULTS_DIR (set by the caller). */
export function writeSyntheticResults(exp: string): { sweepId: string; searchIds: string[]; runIds: string[] } {
  const runIds: string[] = [];
  // Two searches (partitions 1 and 3), capacities 20 000 and 30 000 msg/s.
  const searchIds: string[] = [];
  for (const [partitions, capacity] of [
    [1, 20_000],
    [3, 30_000],
  ] as const) {
    const id = `search-synth${partitions}`;
    const targets = [16_000, 160_000, capacity * 0.975, capacity * 0.975 * 1.05];
    const trials = targets.map((target, i) => {
      const rec = runRecord(exp, { load: target, size: 1024, partitions, capacity, jitter: 0 }, { kind: 'search', id, trial: i + 1 });
      saveRunRecord(rec);
      runIds.push(rec.id);
      const pass = target <= capacity;
      return { n: i + 1, kind: 'fixed' as const, target, achieved: Math.min(target, capacity), pass, reasons: pass ? [] : ['saturated (backlog at the end)'], runId: rec.id, p99Ms: (rec.results!.latency_ms as { p99: number }).p99, run: `../${rec.id}/run.json` };
    });
    const s: SearchRecord = {
      schema: 'greenrace.search/1',
      id,
      experiment: exp,
      workload: 'ingest',
      status: 'completed',
      startedAt: new Date(clock * 1000).toISOString(),
      load: { path: 'ingest.load', unit: 'msg/s' },
      overrides: { 'ingest.partitions': partitions },
      params: { strategy: 'knee', start: 2000, precision: 0.05, minLoad: 1, maxLoad: 1e7, maxTrials: 15, minRatio: 0.95, probeFactor: 8 },
      slo: { minRatio: 0.95, noBacklog: true, maxBacklog: 0 },
      trials,
      result: { capacity: capacity * 0.975, bracket: { low: capacity * 0.975, high: capacity * 0.975 * 1.05, inconsistent: 0 }, withinPrecision: true, stopReason: 'converged', trials: 4, seconds: 160 },
    };
    saveSearch(s);
    searchIds.push(id);
  }
  // The sweep.
  const factors = [
    { path: 'ingest.message_size', values: [512, 4096], from: 'synthetic' },
    { path: 'ingest.partitions', values: [1, 3], from: 'synthetic' },
  ];
  const points = expandGrid(factors);
  const sweepId = 'sweep-synth';
  const entries: SweepRunEntry[] = [];
  const records = new Map<string, RecordLike>();
  const jitters = [-0.02, 0.01, 0.015];
  for (const r of scheduleRuns(points, { repetitions: 3, order: 'sequential', seed: 1 })) {
    const size = r.point.assignments['ingest.message_size'] as number;
    const partitions = r.point.assignments['ingest.partitions'] as number;
    // One noisy point (4096 B, 1 partition): its CV goes above the 10 % threshold.
    const jitter = size === 4096 && partitions === 1 ? [-0.2, 0.15, 0.05][r.repetition - 1]! : jitters[r.repetition - 1]!;
    const rec = runRecord(exp, { load: 8000, size, partitions, capacity: partitions === 1 ? 20_000 : 30_000, jitter }, { kind: 'sweep', id: sweepId, point: r.point.key, repetition: r.repetition });
    saveRunRecord(rec);
    runIds.push(rec.id);
    records.set(rec.id, rec);
    entries.push({ pointKey: r.point.key, repetition: r.repetition, runId: rec.id, status: 'completed', startedAt: rec.startedAt, seconds: 40 });
  }
  const pts = points.map((p) => pointStats(p, entries, records, 0.1));
  const sweep: SweepRecord = {
    schema: 'greenrace.sweep/1',
    id: sweepId,
    experiment: exp,
    workload: 'ingest',
    status: 'completed',
    startedAt: new Date(clock * 1000).toISOString(),
    updatedAt: new Date(clock * 1000).toISOString(),
    factors: factors.map((f) => ({ path: f.path, values: f.values })),
    repetitions: 3,
    order: 'sequential',
    seed: 1,
    idleBetweenS: 0,
    cvThreshold: 0.1,
    overrides: {},
    total: 12,
    runs: entries,
    idle: [],
    points: pts,
  };
  saveSweep(sweep, sweepCsv(factors.map((f) => f.path), pts));
  return { sweepId, searchIds, runIds };
}

/** A power series over the synthetic runs' span: idle watts plus a step inside each window. */
export function syntheticPower(runs: Array<{ window?: { start: number; end: number } }>): { points: Array<{ machine: string; t: number; watts: number }>; source: string } {
  const ws = runs.filter((r) => r.window).map((r) => r.window!);
  const t0 = Math.min(...ws.map((w) => w.start)) - 30;
  const t1 = Math.max(...ws.map((w) => w.end)) + 30;
  const points: Array<{ machine: string; t: number; watts: number }> = [];
  for (let t = t0; t <= t1; t += 5) {
    const busy = ws.some((w) => t >= w.start && t <= w.end);
    points.push({ machine: 'this machine', t, watts: SYNTH_IDLE_W + (busy ? 18 : 0) });
  }
  return { points, source: 'synthetic series' };
}
