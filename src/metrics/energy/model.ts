/**
 * A CPU-utilisation power model for hosts without a sensor:
 *   P(t) = idle + (max − idle) · u(t),   E = ∫ P dt = idle · D + (max − idle) · ū · D
 * where ū is the mean CPU utilisation over the window, 1 − Δidle / (ncpu · D), from node_exporter's
 * `node_cpu_seconds_total{mode="idle"}`. Because the model is linear, the mean is exact: no sampling
 * error beyond the counters' own.
 *
 * Watts come from the experiment file (`energy.hosts.<host>` or `energy.model`); without them, the
 * documented defaults are Cloud Carbon Footprint's average coefficients per vCPU (0.74 W idle,
 * 3.5 W at full load), times the number of CPUs node_exporter reports. The result is an estimate
 * (`kind: "estimated"`) and says so.
 */
import { RunError, errorMessage } from '../../core/errors.js';
import type { PrometheusClient } from '../prometheus.js';
import { counterFigure, fetchPadded, hostsSelector, seriesOf } from './prom-counter.js';
import { noData, type EnergyQuery, type EnergySource, type HostEnergy } from './source.js';

export interface PowerModel {
  idleWatts: number;
  maxWatts: number;
}

/** Cloud Carbon Footprint's average per-vCPU coefficients (Methodology.md): used when nothing is configured. */
export const DEFAULT_WATTS_PER_VCPU = { idle: 0.74, max: 3.5 } as const;

export interface ModelConfig {
  /** Watts for every host without its own entry. */
  default?: PowerModel;
  /** Per-host watts by inventory name. */
  hosts?: Record<string, PowerModel>;
}

/** Energy of the linear model for mean utilisation `u` (0..1) over `seconds`. */
export function modelJoules(m: PowerModel, u: number, seconds: number): number {
  const uc = Math.min(1, Math.max(0, u));
  return (m.idleWatts + (m.maxWatts - m.idleWatts) * uc) * seconds;
}

export class ModelSource implements EnergySource {
  readonly name = 'model';
  readonly priority = 90;
  constructor(
    private readonly prom: PrometheusClient,
    private readonly step: number,
    private readonly config: ModelConfig = {},
  ) {}

  /** The watts used for a host, and where they came from. */
  wattsFor(host: string, ncpu: number): PowerModel & { from: string } {
    const h = this.config.hosts?.[host];
    if (h) return { ...h, from: `energy.hosts.${host}` };
    if (this.config.default) return { ...this.config.default, from: 'energy.model' };
    return { idleWatts: DEFAULT_WATTS_PER_VCPU.idle * ncpu, maxWatts: DEFAULT_WATTS_PER_VCPU.max * ncpu, from: `default ${DEFAULT_WATTS_PER_VCPU.idle}/${DEFAULT_WATTS_PER_VCPU.max} W per vCPU × ${ncpu}` };
  }

  async measure(q: EnergyQuery): Promise<HostEnergy[]> {
    let items;
    try {
      items = await fetchPadded(this.prom, hostsSelector('node_cpu_seconds_total', q.hosts, 'mode="idle"'), q.window, 2 * this.step);
    } catch (e) {
      throw new RunError('energy.source.model', `energy source model: ${errorMessage(e)}`, { cause: e });
    }
    const len = q.window.end - q.window.start;
    return q.hosts.map((h) => {
      const mine = seriesOf(items, h);
      const ncpu = new Set(mine.map((m) => m.metric.cpu)).size;
      if (ncpu === 0) return noData(h.name, this.name, 'no node_cpu_seconds_total series (node_exporter not scraped)', 'estimated');
      const f = counterFigure(mine, q.window, this.step);
      if (f.value === null) return noData(h.name, this.name, 'fewer than two CPU samples in the window', 'estimated');
      const u = Math.min(1, Math.max(0, 1 - f.value / (ncpu * len)));
      const w = this.wattsFor(h.name, ncpu);
      const joules = modelJoules(w, u, len);
      return {
        host: h.name,
        joules,
        source: this.name,
        coverage: f.coverage,
        meanWatts: joules / len,
        kind: 'estimated',
        note: `estimate: ${w.idleWatts.toFixed(1)}–${w.maxWatts.toFixed(1)} W (${w.from}), mean CPU utilisation ${(u * 100).toFixed(1)} % of ${ncpu} CPUs`,
      };
    });
  }
}
