/** From the generators' summaries to the run's results, status and window. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GreenraceError, InterruptedError, RunError, errorMessage } from '../../core/errors.js';
import type { RunWindow } from '../../core/types.js';
import { MB, asLoadgenSummary, mergeSteps, mergeSummaries, type LoadgenSummary, type MergedSummary } from '../../loadgen/summary.js';
import type { EnergyAccount } from '../../metrics/energy/index.js';
import type { EnergyFigure } from '../../runs/record.js';
import type { IngestPlan } from './plan.js';

export const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

/** The summaries fetched into `<runDir>/summaries/` (one cut short by a kill is left out: its instance counts as missing). */
export function readSummaries(runDir: string): LoadgenSummary[] {
  const d = join(runDir, 'summaries');
  if (!existsSync(d)) return [];
  const out: LoadgenSummary[] = [];
  for (const f of readdirSync(d).sort()) {
    if (!f.endsWith('.json')) continue;
    try {
      const s = asLoadgenSummary(JSON.parse(readFileSync(join(d, f), 'utf8')));
      if (s) out.push(s);
    } catch {
      /* cut short */
    }
  }
  return out;
}

export type StopReason = { kind: 'user' } | { kind: 'broker'; message: string } | { kind: 'start_refused'; message: string } | undefined;

/** What ended the run, as the error the record keeps (undefined: completed). */
export function runError(stop: StopReason, failure: unknown, plan: IngestPlan, summaries: LoadgenSummary[]): Error | undefined {
  if (stop?.kind === 'user' || failure instanceof InterruptedError) return new InterruptedError('stopped by the user (Ctrl-C)');
  if (stop?.kind === 'broker') return new RunError('ingest.broker_down', stop.message);
  if (stop?.kind === 'start_refused') return new RunError('ingest.start_refused', stop.message);
  if (failure !== undefined) return failure instanceof GreenraceError ? failure : new RunError('ingest.failed', errorMessage(failure));
  if (summaries.length < plan.generators.length) {
    return new RunError('ingest.missing_summaries', `${plan.generators.length - summaries.length} of ${plan.generators.length} generators left no summary`);
  }
  const bad = summaries.find((s) => s.status !== 'completed');
  if (bad) return new RunError(bad.error?.code ?? 'ingest.generator', `generator ${bad.instance}: ${bad.error?.message ?? bad.status}`);
  return undefined;
}

/** The measurement window of the merged summaries (warm-up start from the shared start). */
export function windowOf(merged: MergedSummary, sharedStart: number): RunWindow {
  return { start: round(merged.window.start / 1000), end: round(merged.window.end / 1000), warmupStart: round(sharedStart / 1000) };
}

/** The run's results (snake_case, as in earlier records) from the merged summaries. */
export function ingestResults(plan: IngestPlan, summaries: LoadgenSummary[], merged: MergedSummary, completed: boolean, window: RunWindow): Record<string, unknown> {
  const targetRate = completed ? plan.load : merged.target.rate;
  return {
    target_rate: plan.load,
    achieved_rate: round(merged.achieved.msgPerSec, 1),
    achieved_ratio: targetRate > 0 ? round(merged.achieved.msgPerSec / targetRate, 4) : null,
    mb_per_s: round(merged.achieved.mbPerSec, 3),
    messages_target: merged.target.messages,
    messages_sent: merged.counts.sent,
    messages_acked: merged.counts.acked,
    messages_failed: merged.counts.failed,
    messages_unsent: merged.counts.unsent,
    messages_unacked: merged.counts.unacked,
    bytes_acked: merged.counts.bytesAcked,
    // The backlog the run left: never acknowledged, or never sent though due more than
    // backlog_grace_ms before the end (unsent messages due in the last backlog_grace_ms are the
    // pipeline's tail, not a backlog). `saturated`: that backlog is not empty. Every message not
    // completed is in the latency figures at its censored latency (lower bounds).
    messages_overdue: merged.backlog.overdue,
    backlog_grace_ms: merged.backlog.graceMs,
    sender_lag_ms: merged.backlog.senderLagMs,
    saturated: merged.saturated,
    latency_ms: merged.latencyMs,
    latency_basis: merged.latency,
    latency_merge: merged.latencyMerge,
    warmup: merged.warmup,
    errors: merged.errors,
    generator_cpu_s: merged.cpu ? round(merged.cpu.userS + merged.cpu.systemS) : null,
    generators: summaries.map((s) => ({
      id: s.instance,
      host: s.host,
      driver: s.driver,
      status: s.status,
      rate: s.target.rate,
      achieved_rate: round(s.achieved.msgPerSec, 1),
      acked: s.counts.acked,
      failed: s.counts.failed,
      unsent: s.counts.unsent,
      unacked: s.counts.unacked,
      overdue: s.backlog.overdue,
      sender_lag_ms: s.backlog.senderLagMs,
      saturated: s.saturated,
      latency_ms: s.latencyMs,
      latency_basis: { loop: s.latency.loop, from: s.latency.from },
      ...(s.error ? { error: s.error } : {}),
      ...(s.notes ? { notes: s.notes } : {}),
    })),
    window_seconds: round(Math.max(0.001, window.end - window.start)),
    ...rampResults(summaries),
  };
}

/**
 * A ramp run (`ingest.ramp`): per step, its target and achieved rate (acks in the step's window ÷
 * its seconds), p50/p99 of the messages due in it (merged histograms, from their intended time),
 * and the backlog (due − acknowledged) at its start and end. `backlog_grew`: the backlog rose by
 * more than 5 % of the step's messages during it — the step was not carried.
 */
function rampResults(summaries: LoadgenSummary[]): Record<string, unknown> {
  const steps = mergeSteps(summaries);
  if (!steps.length) return {};
  return {
    steps: steps.map((x) => ({
      target: round(x.rate, 3),
      seconds: round((x.end - x.start) / 1000),
      messages_due: x.due,
      messages_acked: x.acked,
      achieved_rate: round(x.achieved, 1),
      p50_ms: x.latencyMs.p50,
      p99_ms: x.latencyMs.p99,
      backlog_start: x.backlogStart,
      backlog_end: x.backlogEnd,
      backlog_grew: x.backlogEnd - x.backlogStart > 0.05 * Math.max(1, x.due),
    })),
  };
}

/**
 * The energy part of the results over the measurement window: total, idle (baseline watts × window)
 * and dynamic joules, with kind and coverage, and messages per joule both ways (acknowledged
 * messages ÷ total J, and ÷ dynamic J when a baseline gives it). `figure` is run.json's `energy`
 * (its `error` says why there is no account).
 */
export function energyResults(account: EnergyAccount | undefined, figure: EnergyFigure | undefined, merged: MergedSummary): Record<string, unknown> {
  if (!account) {
    return { energy_j: null, idle_j: null, dynamic_j: null, msg_per_j: null, msg_per_dynamic_j: null, j_per_mb: null, energy_errors: { account: figure?.error ?? 'no energy account' } };
  }
  const j = account.totalJoules;
  const d = account.dynamicJoules;
  const acked = merged.counts.acked;
  return {
    energy_j: j === null ? null : round(j, 2),
    idle_j: account.idleJoules === null ? null : round(account.idleJoules, 2),
    dynamic_j: d === null ? null : round(d, 2),
    energy_kind: account.kind,
    energy_coverage: round(account.coverage, 4),
    energy_sources: account.sources,
    baseline: account.baseline.status,
    mean_watts: account.meanWatts === null ? null : round(account.meanWatts, 2),
    msg_per_j: j && j > 0 ? round(acked / j, 3) : null,
    // Dynamic energy can be ≤ 0 (the run added nothing measurable above idle): no ratio then.
    msg_per_dynamic_j: d && d > 0 ? round(acked / d, 3) : null,
    j_per_mb: j !== null && merged.counts.bytesAcked > 0 ? round(j / (merged.counts.bytesAcked / MB), 4) : null,
    ...(Object.keys(account.errors).length ? { energy_errors: account.errors } : {}),
  };
}

export { mergeSummaries };
