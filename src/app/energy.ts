/**
 * The energy of a run's measurement window, as every run kind gets it through the run context: the
 * experiment's sources in its order (the platform's among them: Kwollect on Grid'5000), the hosts
 * with their physical machine (hosts of one machine are counted once), the stored idle baseline
 * (`baseline.json`: idle and dynamic energy; flagged stale when older than the last `setup`), and,
 * when the run knows them, the CPU seconds per host (per-host attribution by CPU share).
 */
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { readJsonIfExists } from '../core/files.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import { LOADGEN_SCRAPE_JOB, type Host, type RunWindow } from '../core/types.js';
import type { Experiment } from '../experiment/schema.js';
import { energyAccount, energySources, type EnergyAccount, type EnergyHost, type EnergySource } from '../metrics/energy/index.js';
import { PrometheusClient } from '../metrics/prometheus.js';
import { platformEnergySources } from '../platforms/index.js';
import { readState } from './state.js';

/** `.greenrace/<exp>/baseline.json`: the idle baseline `entrypoint baseline` stores. */
export const baselinePath = (dir: string): string => join(dir, 'baseline.json');

/** Where a run's energy comes from. */
export interface EnergyWhere {
  experiment: Pick<Experiment, 'name' | 'energy' | 'monitoring'>;
  endpoints: Record<string, string>;
  hosts: Host[];
  /** The experiment's state folder: platform sources, the stored baseline, the last setup's date. */
  stateDir?: string;
}

export interface RunEnergyOptions {
  /** Subtract the stored idle baseline (default true; the baseline measurement itself does not). */
  baseline?: boolean;
  /** Host → CPU seconds its processes used in the window (per-host attribution by CPU share). */
  hostCpuSeconds?: Record<string, number>;
}

/** Hosts as the energy account sees them: name, address, machine, inventory attributes (g5k_fqdn). */
export function energyHosts(hosts: Host[]): EnergyHost[] {
  return hosts.map((h) => ({
    name: h.name,
    address: h.address,
    ...(h.machine ? { machine: h.machine } : {}),
    ...(h.vars ? { attributes: Object.fromEntries(Object.entries(h.vars).map(([k, v]) => [k, String(v)])) } : {}),
  }));
}

/** The account of a window with everything the run context knows (see the file's comment). */
export async function accountRunEnergy(w: EnergyWhere, window: RunWindow, opts: RunEnergyOptions = {}): Promise<EnergyAccount> {
  const url = w.endpoints.prometheus_url;
  if (!url) {
    throw new UsageError('energy.no_prometheus', `experiment ${w.experiment.name} has no Prometheus: energy needs the monitoring services`, {
      hint: 'list node_exporter, prometheus and pushgateway under `services` in the experiment file, then run setup again',
    });
  }
  const st = w.stateDir ? readState(w.stateDir) : undefined;
  let extra: Record<string, EnergySource> = {};
  if (st?.platform && st.experimentSnapshot?.platform) extra = await platformEnergySources(st.platform, st.experimentSnapshot.platform);
  const sources = energySources(w.experiment, new PrometheusClient(url), extra);
  const baseline = opts.baseline !== false && w.stateDir ? readJsonIfExists<unknown>(baselinePath(w.stateDir)) : undefined;
  return energyAccount(sources, energyHosts(w.hosts), { start: window.start, end: window.end }, {
    minCoverage: w.experiment.energy.min_coverage,
    ...(baseline !== undefined ? { baseline } : {}),
    ...(st?.setupFinishedAt ? { setupAt: st.setupFinishedAt } : {}),
    ...(opts.hostCpuSeconds ? { hostCpuSeconds: opts.hostCpuSeconds } : {}),
  });
}

/** The account of a window of a set-up experiment, from its state (hosts, endpoints, platform, baseline). */
export async function accountIngestEnergy(experiment: Pick<Experiment, 'name' | 'energy' | 'monitoring'>, window: RunWindow, opts: RunEnergyOptions = {}): Promise<EnergyAccount> {
  const dir = stateDirOf(experiment.name);
  const st = readState(dir);
  if (!st?.platform) throw new UsageError('experiment.not_ready', `experiment ${experiment.name} is not set up`, { hint: `run \`entrypoint setup ${experiment.name}\` first` });
  return accountRunEnergy({ experiment, endpoints: st.endpoints ?? {}, hosts: st.platform.hosts, stateDir: dir }, window, opts);
}

/**
 * Whether every target Prometheus scrapes (the jobs in `exclude` aside) has a sample at or after
 * `end` (epoch seconds), from the answer to `timestamp(up)`: then every counter the energy sources
 * read has a sample beyond the window's end to interpolate its edge with. False when no target is listed.
 */
export function scrapedPast(items: ReadonlyArray<{ metric: Record<string, string>; value: readonly [number, number] }>, end: number, exclude: readonly string[] = []): boolean {
  const relevant = items.filter((i) => !exclude.includes(i.metric.job ?? ''));
  return relevant.length > 0 && relevant.every((i) => i.value[1] >= end);
}

/**
 * Until every target has been scraped past the window's end (asked of Prometheus every 300 ms), at
 * most until the fixed bound it replaced: two scrape intervals (at least 3 s each) past the end, and
 * never more than 15 s from now. Resolves with how it ended.
 */
export async function waitForScrapesPast(prometheus: Pick<PrometheusClient, 'queryVector'>, end: number, scrapeIntervalS: number, o: { exclude?: readonly string[]; pollMs?: number } = {}): Promise<'scraped' | 'bound'> {
  const bound = Math.min(Date.now() + 15_000, (end + Math.max(3, scrapeIntervalS) * 2) * 1000);
  for (;;) {
    const items = await prometheus.queryVector('timestamp(up)').catch(() => undefined);
    if (items && scrapedPast(items, end, o.exclude)) return 'scraped';
    const left = bound - Date.now();
    if (left <= 0) return 'bound';
    await new Promise((r) => setTimeout(r, Math.min(left, o.pollMs ?? 300)));
  }
}

/** Once Prometheus has scraped past the window's end (see waitForScrapesPast), the account of the window. */
export async function measureEnergy(w: EnergyWhere, window: RunWindow, opts: RunEnergyOptions = {}): Promise<EnergyAccount> {
  const url = w.endpoints.prometheus_url;
  if (!url) return accountRunEnergy(w, window, opts); // fails with energy.no_prometheus
  // The generators' own job is withdrawn at the window's end: its targets are no energy source.
  await waitForScrapesPast(new PrometheusClient(url), window.end, w.experiment.monitoring.scrape_interval, { exclude: [LOADGEN_SCRAPE_JOB] });
  return accountRunEnergy(w, window, opts);
}
