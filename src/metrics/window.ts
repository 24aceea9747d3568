/**
 * Run windows: marking a run's warm-up, start and end (epoch seconds) and publishing them as
 * `greenrace_run_*` gauges on the Pushgateway, grouped and labelled by run id, so any later query
 * (even from another machine, days later) selects exactly the measurement window, excluding warm-up.
 *
 *   greenrace_run_info{run_id,experiment,kind} 1
 *   greenrace_run_warmup_start_timestamp_seconds{run_id,experiment,kind}  (when there is a warm-up)
 *   greenrace_run_start_timestamp_seconds{run_id,experiment,kind}
 *   greenrace_run_end_timestamp_seconds{run_id,experiment,kind}           (pushed by `end()`)
 *
 * One Pushgateway group per run (job `greenrace_run`, grouping key experiment + run_id); `killjob`
 * deletes an experiment's groups (`deleteExperimentGroups`).
 */
import { RunError } from '../core/errors.js';
import type { RunWindow } from '../core/types.js';
import { PrometheusClient, promDuration, promLabelValue } from './prometheus.js';
import { PushgatewayClient, type PushedGauge } from './pushgateway.js';

export const RUN_JOB = 'greenrace_run';

export interface RunLabels {
  runId: string;
  experiment: string;
  /** The kind of run: the workload (`ingest`, `net`, `matrix`, `race`). */
  kind: string;
}

/** Seconds of a window. */
export function windowLength(w: { start: number; end: number }): number {
  return w.end - w.start;
}

/** Check a window: finite, end after start, warm-up (if any) before start. Throws a RunError naming the fault. */
export function validateWindow(w: RunWindow): RunWindow {
  if (!Number.isFinite(w.start) || !Number.isFinite(w.end)) throw new RunError('metrics.window', `window bounds must be numbers (start ${w.start}, end ${w.end})`);
  if (w.end <= w.start) throw new RunError('metrics.window', `window end ${w.end} is not after its start ${w.start}`);
  if (w.warmupStart !== undefined && w.warmupStart > w.start)
    throw new RunError('metrics.window', `warm-up start ${w.warmupStart} is after the measurement start ${w.start}`);
  return w;
}

/**
 * The measurement window of a run whose load ran from `loadStart` to `loadEnd`, skipping `warmup`
 * seconds at the beginning and `cooldown` at the end.
 */
export function measurementWindow(loadStart: number, loadEnd: number, warmup = 0, cooldown = 0): RunWindow {
  const start = loadStart + warmup;
  const end = loadEnd - cooldown;
  if (end <= start)
    throw new RunError('metrics.window', `warm-up (${warmup} s) and cool-down (${cooldown} s) leave no measurement window in a ${loadEnd - loadStart} s run`);
  return warmup > 0 ? { warmupStart: loadStart, start, end } : { start, end };
}

/** The PromQL range and evaluation time for a window: `metric[<range>] @ <end>` covers exactly it. */
export function promWindow(w: { start: number; end: number }): { range: string; at: string; seconds: number } {
  return { range: promDuration(w.end - w.start), at: w.end.toFixed(3), seconds: w.end - w.start };
}

/** `increase(<sel>[range] @ end)` for a window. */
export function increaseOver(sel: string, w: { start: number; end: number }): string {
  const p = promWindow(w);
  return `increase(${sel}[${p.range}] @ ${p.at})`;
}

/** `avg_over_time(<sel>[range] @ end)` for a window. */
export function avgOver(sel: string, w: { start: number; end: number }): string {
  const p = promWindow(w);
  return `avg_over_time(${sel}[${p.range}] @ ${p.at})`;
}

/** Split [start, end] into consecutive sub-windows of at most `seconds` (the last may be shorter). */
export function sliceWindow(w: { start: number; end: number }, seconds: number): Array<{ start: number; end: number }> {
  if (!(seconds > 0)) throw new RunError('metrics.window', `slice length must be positive (got ${seconds})`);
  const out: Array<{ start: number; end: number }> = [];
  for (let s = w.start; s < w.end - 1e-9; s += seconds) out.push({ start: s, end: Math.min(w.end, s + seconds) });
  return out;
}

const nowSeconds = (): number => Date.now() / 1000;

/**
 * Marks one run's window on the Pushgateway. `start()` pushes info and start (and warm-up start),
 * `end()` pushes the end and returns the window to store in the run record. A Pushgateway that is
 * missing or down does not lose the window: the run record keeps it; `pushErrors` lists the failures.
 */
export class RunWindowMarker {
  readonly labels: RunLabels;
  readonly pushErrors: string[] = [];
  private warmupStart: number | undefined;
  private startT: number | undefined;
  private readonly gw: PushgatewayClient | undefined;

  constructor(labels: RunLabels, pushgatewayUrl?: string) {
    this.labels = labels;
    this.gw = pushgatewayUrl ? new PushgatewayClient(pushgatewayUrl) : undefined;
  }

  /** Warm-up begins now (or at `t`). */
  async warmup(t = nowSeconds()): Promise<void> {
    this.warmupStart = t;
    await this.pushGauges([this.info(), this.gauge('greenrace_run_warmup_start_timestamp_seconds', 'Start of the warm-up (excluded from measurement), epoch seconds', t)]);
  }

  /** Measurement begins now (or at `t`). */
  async start(t = nowSeconds()): Promise<void> {
    this.startT = t;
    await this.pushGauges([this.info(), this.gauge('greenrace_run_start_timestamp_seconds', 'Start of the measurement window, epoch seconds', t)]);
  }

  /** A window known after the fact (all its bounds at once): info, warm-up, start and end in one push. */
  async mark(w: RunWindow): Promise<RunWindow> {
    validateWindow(w);
    this.startT = w.start;
    if (w.warmupStart !== undefined) this.warmupStart = w.warmupStart;
    const g = [this.info()];
    if (w.warmupStart !== undefined) g.push(this.gauge('greenrace_run_warmup_start_timestamp_seconds', 'Start of the warm-up (excluded from measurement), epoch seconds', w.warmupStart));
    g.push(this.gauge('greenrace_run_start_timestamp_seconds', 'Start of the measurement window, epoch seconds', w.start));
    g.push(this.gauge('greenrace_run_end_timestamp_seconds', 'End of the measurement window, epoch seconds', w.end));
    await this.pushGauges(g);
    return w;
  }

  /** Measurement ends now (or at `t`); returns the window. */
  async end(t = nowSeconds()): Promise<RunWindow> {
    if (this.startT === undefined) throw new RunError('metrics.window', `run ${this.labels.runId}: end() before start()`);
    const w = validateWindow(this.warmupStart === undefined ? { start: this.startT, end: t } : { warmupStart: this.warmupStart, start: this.startT, end: t });
    await this.pushGauges([this.gauge('greenrace_run_end_timestamp_seconds', 'End of the measurement window, epoch seconds', t)]);
    return w;
  }

  private info(): PushedGauge {
    return {
      name: 'greenrace_run_info',
      help: 'A greenrace run (labels identify it)',
      value: 1,
      labels: this.labelSet(),
    };
  }

  private labelSet(): Record<string, string> {
    return { run_id: this.labels.runId, experiment: this.labels.experiment, kind: this.labels.kind };
  }

  private gauge(name: string, help: string, value: number): PushedGauge {
    return { name, help, value, labels: this.labelSet() };
  }

  private async pushGauges(g: PushedGauge[]): Promise<void> {
    if (!this.gw) return;
    try {
      await this.gw.push(g, { job: RUN_JOB, groupings: { experiment: this.labels.experiment, run_id: this.labels.runId } });
    } catch (e) {
      this.pushErrors.push((e as Error).message);
    }
  }
}

/**
 * Delete every Pushgateway group of an experiment (its run windows, its latency matrix): the groups
 * whose grouping key has `experiment=<name>`, listed from the Pushgateway's API. Returns the groups
 * deleted as `job/run_id`.
 */
export async function deleteExperimentGroups(pushgatewayUrl: string, experiment: string, timeoutMs = 10_000): Promise<string[]> {
  const url = pushgatewayUrl.replace(/\/+$/, '');
  let body: { data?: Array<{ labels?: Record<string, string> }> };
  try {
    const r = await fetch(`${url}/api/v1/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    body = (await r.json()) as typeof body;
  } catch (e) {
    throw new RunError('metrics.push', `listing the Pushgateway groups at ${url} failed: ${(e as Error).message}`, { cause: e });
  }
  const gw = new PushgatewayClient(url);
  const done: string[] = [];
  for (const g of body.data ?? []) {
    const { job, ...groupings } = g.labels ?? {};
    if (!job || groupings.experiment !== experiment) continue;
    await gw.delete({ job, groupings, timeoutMs });
    done.push([job, ...Object.entries(groupings).filter(([k]) => k !== 'experiment').map(([, v]) => v)].join('/'));
  }
  return done;
}

/**
 * Read a run's window back from Prometheus (the gauges pushed by RunWindowMarker). Looks back
 * `lookbackSeconds` from `at` (default now) for the last values. Throws when the run is unknown.
 */
export async function windowFromPrometheus(prom: PrometheusClient, runId: string, opts: { at?: number; lookbackSeconds?: number } = {}): Promise<RunWindow> {
  const at = opts.at ?? nowSeconds();
  const lb = promDuration(opts.lookbackSeconds ?? 7 * 86400);
  const sel = `{run_id=${promLabelValue(runId)}}`;
  const get = (m: string) => prom.queryScalar(`max(last_over_time(${m}${sel}[${lb}]))`, at);
  const [start, end, warm] = await Promise.all([
    get('greenrace_run_start_timestamp_seconds'),
    get('greenrace_run_end_timestamp_seconds'),
    get('greenrace_run_warmup_start_timestamp_seconds'),
  ]);
  if (start === undefined || end === undefined)
    throw new RunError('metrics.window.unknown', `Prometheus has no complete window for run ${runId} (start ${start ?? 'missing'}, end ${end ?? 'missing'})`, {
      hint: 'the run record (results/<exp>/<run-id>/run.json) keeps the window too',
    });
  return validateWindow(warm === undefined ? { start, end } : { warmupStart: warm, start, end });
}
