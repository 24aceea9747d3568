/**
 * Questions about a set-up experiment: PromQL on its Prometheus (instant or over a window), the
 * energy of its hosts over a window, and its latest run record. What the shell's `query()`,
 * `energy()` and `last` use.
 *
 * The shell imports this module at start-up (for `last`), so the Prometheus client and the energy code
 * are loaded on first use.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GreenraceError, UsageError } from '../core/errors.js';
import { resultsDir, stateDir } from '../core/paths.js';
import type { MatrixItem, PrometheusClient, VectorItem } from '../metrics/prometheus.js';
import type { EnergyAccount } from '../metrics/energy/index.js';
import { loadRunRecord, type RunRecord } from '../runs/record.js';
import { readState } from './state.js';

export type { RunRecord } from '../runs/record.js';
export type { MatrixItem, VectorItem } from '../metrics/prometheus.js';
export type { EnergyAccount } from '../metrics/energy/index.js';

/** A measurement window in epoch seconds. */
export interface Window {
  start: number;
  end: number;
}

/** At most this many points per series in a range query. */
export const MAX_POINTS = 500;

/** The Prometheus of a set-up experiment (its `prometheus_url` endpoint). */
export async function prometheusFor(exp: string): Promise<PrometheusClient> {
  const st = readState(stateDir(exp));
  if (!st || !st.platform || st.platform.hosts.length === 0) {
    throw new GreenraceError('query.no_cluster', `experiment ${exp} has no cluster${st ? ` (state: ${st.phase})` : ''}`, {
      hint: `run \`entrypoint setup ${exp}\``,
    });
  }
  const url = st.endpoints.prometheus_url;
  if (!url) {
    throw new GreenraceError('query.no_prometheus', `experiment ${exp} has no Prometheus endpoint`, {
      hint: 'add prometheus to services and deploy it (setup, or p(\'prometheus\') in the shell)',
    });
  }
  const { PrometheusClient } = await import('../metrics/prometheus.js');
  return new PrometheusClient(url);
}

function checkPromql(promql: unknown): asserts promql is string {
  if (typeof promql !== 'string' || promql.trim() === '') throw new UsageError('query.bad_promql', 'a PromQL expression must be a non-empty string');
}

/** The step of a range query: the scrape interval, widened so that a series has at most MAX_POINTS points. */
export function rangeStep(window: Window, scrapeInterval: number): number {
  return Math.max(scrapeInterval, (window.end - window.start) / MAX_POINTS);
}

/** An instant query: [{metric, value: [epoch, number]}]. */
export async function queryInstant(exp: string, promql: string): Promise<VectorItem[]> {
  checkPromql(promql);
  return (await prometheusFor(exp)).queryVector(promql);
}

/** A range query over a window, step = rangeStep(window, scrapeInterval): [{metric, values}]. */
export async function queryRange(exp: string, promql: string, window: Window, opts: { scrapeInterval: number }): Promise<MatrixItem[]> {
  checkPromql(promql);
  if (!(Number.isFinite(window.start) && Number.isFinite(window.end) && window.end > window.start)) {
    throw new UsageError('query.bad_window', `a window needs start < end in epoch seconds (got ${window.start} → ${window.end})`);
  }
  if (!(opts.scrapeInterval > 0)) throw new UsageError('query.bad_step', `the scrape interval must be > 0 seconds (got ${opts.scrapeInterval})`);
  return (await prometheusFor(exp)).queryRange(promql, window.start, window.end, rangeStep(window, opts.scrapeInterval));
}

/**
 * The energy of the experiment's hosts over a window, from the same sources as the runs (Kwollect on
 * Grid'5000), with the idle baseline subtracted when one was measured.
 */
export async function energyOver(exp: string, window: Window, opts: { minCoverage?: number } = {}): Promise<EnergyAccount> {
  if (!(Number.isFinite(window.start) && Number.isFinite(window.end) && window.end > window.start)) {
    throw new UsageError('query.bad_window', `a window needs start < end in epoch seconds (got ${window.start} → ${window.end})`);
  }
  const [{ energyContext, readBaseline }, { energyAccount }] = await Promise.all([import('./baseline.js'), import('../metrics/energy/index.js')]);
  const ctx = await energyContext(exp);
  const baseline = readBaseline(exp);
  return energyAccount(ctx.sources, ctx.hosts, window, {
    minCoverage: opts.minCoverage ?? ctx.state.experimentSnapshot.energy.min_coverage,
    ...(baseline ? { baseline } : {}),
    ...(ctx.state.setupFinishedAt ? { setupAt: ctx.state.setupFinishedAt } : {}),
  });
}

/** The most recent run.json of an experiment (by modification time), if any. */
export function latestRunRecord(exp: string): RunRecord | undefined {
  const dir = resultsDir(exp);
  if (!existsSync(dir)) return undefined;
  let best: { id: string; t: number } | undefined;
  for (const id of readdirSync(dir)) {
    const f = join(dir, id, 'run.json');
    if (!existsSync(f)) continue;
    const t = statSync(f).mtimeMs;
    if (!best || t > best.t) best = { id, t };
  }
  if (!best) return undefined;
  try {
    return loadRunRecord(exp, best.id);
  } catch {
    return undefined;
  }
}
