/**
 * The energy of a run's measurement window, through the same energy context as `baseline`: the
 * platform's sources (Kwollect on Grid'5000, with the API URL and credentials setup used) and the
 * hosts with their inventory attributes (g5k_fqdn). The run's own `energy` settings (with its --set
 * overrides) choose and order the sources; the platform sources come from the context.
 */
import { UsageError } from '../core/errors.js';
import type { RunWindow } from '../core/types.js';
import type { Experiment } from '../experiment/schema.js';
import { energyAccount, energySources, type EnergyAccount } from '../metrics/energy/index.js';
import { energyContext } from './baseline.js';

export async function accountIngestEnergy(experiment: Pick<Experiment, 'name' | 'energy' | 'monitoring'>, window: RunWindow): Promise<EnergyAccount> {
  const ctx = await energyContext(experiment.name);
  const platformSources = Object.fromEntries(ctx.sources.map((s) => [s.name, s]));
  const sources = energySources(experiment, ctx.prom, platformSources);
  return energyAccount(sources, ctx.hosts, window, { minCoverage: experiment.energy.min_coverage });
}

/** Once Prometheus has scraped past the window's end (at most 15 s from now), the account of the window. */
export async function measureEnergy(experiment: Experiment, endpoints: Record<string, string>, window: RunWindow): Promise<EnergyAccount> {
  if (!endpoints.prometheus_url) {
    throw new UsageError('energy.no_prometheus', `experiment ${experiment.name} has no Prometheus: energy needs the monitoring services`);
  }
  const wait = Math.min(15_000, (window.end + experiment.monitoring.scrape_interval * 2) * 1000 - Date.now());
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return accountIngestEnergy(experiment, window);
}
