/**
 * node_exporter RAPL counters: `node_rapl_<zone>_joules_total{index,path}` (J). One zone only (zones
 * overlap: package contains core; default `package`), summed over sockets. Resets are handled as
 * Prometheus does; wraps at `max_energy_range_uj` are compensated exactly when the node_exporter role
 * published the range as `greenrace_rapl_max_energy_range_joules{path}` (textfile collector).
 */
import { RunError, errorMessage } from '../../core/errors.js';
import type { MatrixItem, PrometheusClient } from '../prometheus.js';
import { counterFigure, fetchPadded, hostsSelector, seriesOf } from './prom-counter.js';
import { noData, type EnergyQuery, type EnergySource, type HostEnergy } from './source.js';

export const RAPL_RANGE_METRIC = 'greenrace_rapl_max_energy_range_joules';

export class RaplSource implements EnergySource {
  readonly name: string;
  readonly priority = 30;
  private readonly metric: string;
  constructor(
    private readonly prom: PrometheusClient,
    private readonly step: number,
    readonly zone = 'package',
  ) {
    if (!/^[a-z_]+$/.test(zone)) throw new RunError('energy.rapl.zone', `RAPL zone must be a word like "package" or "dram" (got ${JSON.stringify(zone)})`);
    this.name = `rapl:${zone}`;
    this.metric = `node_rapl_${zone}_joules_total`;
  }

  async measure(q: EnergyQuery): Promise<HostEnergy[]> {
    let items: MatrixItem[];
    let ranges: MatrixItem[];
    try {
      [items, ranges] = await Promise.all([
        fetchPadded(this.prom, hostsSelector(this.metric, q.hosts), q.window, 2 * this.step),
        fetchPadded(this.prom, hostsSelector(RAPL_RANGE_METRIC, q.hosts), q.window, 2 * this.step),
      ]);
    } catch (e) {
      throw new RunError('energy.source.rapl', `energy source ${this.name}: ${errorMessage(e)}`, { cause: e });
    }
    const len = q.window.end - q.window.start;
    return q.hosts.map((h) => {
      const mine = seriesOf(items, h);
      const myRanges = seriesOf(ranges, h);
      const rangeOf = (m: MatrixItem): number | undefined => {
        const r = myRanges.find((x) => x.metric.path === m.metric.path);
        const v = r?.values[r.values.length - 1]?.[1];
        return v !== undefined && v > 0 ? v : undefined;
      };
      const f = counterFigure(mine, q.window, this.step, rangeOf);
      if (f.value === null) return noData(h.name, this.name, f.series === 0 ? `no ${this.metric} series (no RAPL counters on this host)` : 'fewer than two samples');
      const out: HostEnergy = { host: h.name, joules: f.value, source: this.name, coverage: f.coverage, meanWatts: f.value / len, kind: 'measured' };
      const unranged = mine.filter((m) => rangeOf(m) === undefined).length;
      if ((f.coverage.resets ?? 0) > 0 && unranged > 0) out.note = 'a counter drop was treated as a reset (wrap range unknown): up to one scrape interval of energy may be missing';
      return out;
    });
  }
}
