/**
 * Scaphandre: the host energy counter `scaph_host_energy_microjoules` (µJ, from RAPL), exported on
 * each host's :8080. Joules = increase of the counter over the window / 1e6.
 */
import { RunError, errorMessage } from '../../core/errors.js';
import type { PrometheusClient } from '../prometheus.js';
import { counterFigure, fetchPadded, hostsSelector, seriesOf } from './prom-counter.js';
import { noData, type EnergyQuery, type EnergySource, type HostEnergy } from './source.js';

export const SCAPHANDRE_METRIC = 'scaph_host_energy_microjoules';

export class ScaphandreSource implements EnergySource {
  readonly name = 'scaphandre';
  readonly priority = 10;
  constructor(
    private readonly prom: PrometheusClient,
    /** Scrape interval, seconds. */
    private readonly step: number,
  ) {}

  async measure(q: EnergyQuery): Promise<HostEnergy[]> {
    let items;
    try {
      items = await fetchPadded(this.prom, hostsSelector(SCAPHANDRE_METRIC, q.hosts), q.window, 2 * this.step);
    } catch (e) {
      throw new RunError('energy.source.scaphandre', `energy source scaphandre: ${errorMessage(e)}`, { cause: e });
    }
    const len = q.window.end - q.window.start;
    return q.hosts.map((h) => {
      const f = counterFigure(seriesOf(items, h), q.window, this.step);
      if (f.value === null) return noData(h.name, this.name, f.series === 0 ? 'no scaph_host_energy_microjoules series (scaphandre not running here)' : 'fewer than two samples');
      const joules = f.value / 1e6;
      return { host: h.name, joules, source: this.name, coverage: f.coverage, meanWatts: joules / len, kind: 'measured' };
    });
  }
}
