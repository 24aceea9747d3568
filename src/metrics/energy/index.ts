/**
 * The energy sources greenrace knows, built from an experiment's `energy` section. Platform sources
 * (Kwollect on Grid'5000) are passed in by the app layer as `extra`.
 */
import type { PrometheusClient } from '../prometheus.js';
import { ModelSource, type ModelConfig } from './model.js';
import { RaplSource } from './rapl.js';
import { ScaphandreSource } from './scaphandre.js';
import type { EnergySource } from './source.js';

export type { EnergySource, EnergyHost, EnergyWindow, HostEnergy, EnergyCoverage, EnergyQuery } from './source.js';
export {
  energyAccount,
  toEnergyFigure,
  unavailableEnergy,
  baselineFromAccount,
  type AccountOptions,
  type EnergyAccount,
  type MachineAccount,
  type HostAccount,
  type BaselineUse,
  type RecordEnergy,
} from './account.js';
export {
  normalizeBaseline,
  idleJoules,
  dynamicJoules,
  baselineAge,
  baselineFromMachines,
  type Baseline,
  type BaselineV1,
  type MachineBaseline,
  type BaselineAge,
  type EnergyKind,
} from './baseline.js';
export { machineOf, groupByMachine } from './machines.js';
export { hostShares, type HostShare, type AttributionBasis } from './attribution.js';

/** The parts of an experiment's `energy` section the sources read. */
export interface EnergySettings {
  sources: readonly string[];
  rapl_zone: string;
  model?: { idle_watts: number; max_watts: number } | undefined;
  hosts: Record<string, { idle_watts: number; max_watts: number }>;
}
/** What `energySources` needs of an experiment: its energy section and the scrape interval. */
export interface EnergyExperiment {
  energy: EnergySettings;
  monitoring: { scrape_interval: number };
}

export function modelConfig(energy: EnergySettings): ModelConfig {
  const cfg: ModelConfig = { hosts: {} };
  if (energy.model) cfg.default = { idleWatts: energy.model.idle_watts, maxWatts: energy.model.max_watts };
  for (const [h, m] of Object.entries(energy.hosts)) cfg.hosts![h] = { idleWatts: m.idle_watts, maxWatts: m.max_watts };
  return cfg;
}

/**
 * The sources an experiment asks for, in its order (priority follows the order of `energy.sources`).
 * `extra` holds platform sources by name (e.g. `{ kwollect: source }`); a listed source that is
 * neither built in nor given is skipped.
 */
export function energySources(exp: EnergyExperiment, prom: PrometheusClient, extra: Record<string, EnergySource> = {}): EnergySource[] {
  const step = exp.monitoring.scrape_interval;
  const out: EnergySource[] = [];
  exp.energy.sources.forEach((name, i) => {
    let s: EnergySource | undefined;
    if (name === 'scaphandre') s = new ScaphandreSource(prom, step);
    else if (name === 'rapl') s = new RaplSource(prom, step, exp.energy.rapl_zone);
    else if (name === 'model') s = new ModelSource(prom, step, modelConfig(exp.energy));
    else s = extra[name];
    if (!s) return;
    // Preference follows the experiment's order, whatever the source's own default priority.
    const src = s;
    out.push({ name: src.name, priority: i, measure: (q) => src.measure(q) });
  });
  return out;
}
