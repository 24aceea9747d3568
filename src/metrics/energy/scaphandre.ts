/**
 * Scaphandre: the host energy counter `scaph_host_energy_microjoules` (µJ), exported on each host's
 * :8080. Joules = increase of the counter over the window / 1e6. The counter is what Scaphandre's
 * powercap_rapl sensor reads: psys when the machine has it, else the sum of every socket's package
 * counter plus its `dram` domain (so it can exceed node_exporter's `rapl:package` by the DRAM
 * energy); with `--vm`, the same files in the folder $SCAPHANDRE_POWERCAP_PATH.
 *
 * Scaphandre 1.0 re-reads its counters on a scrape only when more than 2 s passed since the previous
 * scrape (src/exporters/prometheus.rs); otherwise it serves the previous reading again under the new
 * scrape's timestamp. The prometheus role scrapes it every max(scrape_interval, 3 s)
 * (`SCAPHANDRE_MIN_SCRAPE_SECONDS`); a repeated reading that still arrives is dropped here (it is
 * an older value stamped late), and a counter that never moves is reported, not taken as 0 W.
 */
import { RunError, errorMessage } from '../../core/errors.js';
import type { MatrixItem, PrometheusClient } from '../prometheus.js';
import { counterFigure, fetchPadded, hostsSelector, seriesOf } from './prom-counter.js';
import { noData, type EnergyQuery, type EnergySource, type HostEnergy } from './source.js';

export const SCAPHANDRE_METRIC = 'scaph_host_energy_microjoules';
/** Scaphandre refreshes only when more than 2 s passed since the previous scrape: scrape it less often. */
export const SCAPHANDRE_MIN_SCRAPE_SECONDS = 3;

/** A series without the repeated readings Scaphandre serves between refreshes (the first of each run is kept). */
export function dropRepeatedReadings(item: MatrixItem): { item: MatrixItem; dropped: number } {
  const v = item.values;
  const kept = v.filter((s, i) => i === 0 || s[1] !== v[i - 1]![1]);
  // A counter that really stood still keeps its first and last sample (0 J, not "no data").
  if (kept.length < 2 && v.length >= 2) return { item: { ...item, values: [v[0]!, v[v.length - 1]!] }, dropped: v.length - 2 };
  return { item: { ...item, values: kept }, dropped: v.length - kept.length };
}

export class ScaphandreSource implements EnergySource {
  readonly name = 'scaphandre';
  readonly priority = 10;
  private readonly step: number;
  constructor(
    private readonly prom: PrometheusClient,
    /** The experiment's scrape interval, seconds (Scaphandre's own is at least SCAPHANDRE_MIN_SCRAPE_SECONDS). */
    step: number,
  ) {
    this.step = Math.max(step, SCAPHANDRE_MIN_SCRAPE_SECONDS);
  }

  async measure(q: EnergyQuery): Promise<HostEnergy[]> {
    let items;
    try {
      items = await fetchPadded(this.prom, hostsSelector(SCAPHANDRE_METRIC, q.hosts), q.window, 2 * this.step);
    } catch (e) {
      throw new RunError('energy.source.scaphandre', `energy source scaphandre: ${errorMessage(e)}`, { cause: e });
    }
    const len = q.window.end - q.window.start;
    return q.hosts.map((h) => {
      const raw = seriesOf(items, h);
      const cleaned = raw.map(dropRepeatedReadings);
      const f = counterFigure(
        cleaned.map((c) => c.item),
        q.window,
        this.step,
      );
      if (f.value === null) return noData(h.name, this.name, f.series === 0 ? 'no scaph_host_energy_microjoules series (scaphandre not running here)' : 'fewer than two samples');
      const inside = raw.flatMap((r) => r.values).filter(([t]) => t >= q.window.start && t <= q.window.end).length;
      if (f.value === 0 && inside >= 2)
        return noData(
          h.name,
          this.name,
          `scaph_host_energy_microjoules did not change over ${inside} samples: Scaphandre re-reads its counters only when scraped more than 2 s apart (scrape it every ${SCAPHANDRE_MIN_SCRAPE_SECONDS} s or more)`,
        );
      const joules = f.value / 1e6;
      const out: HostEnergy = { host: h.name, joules, source: this.name, coverage: f.coverage, meanWatts: joules / len, kind: 'measured' };
      const dropped = cleaned.reduce((s, c) => s + c.dropped, 0);
      if (dropped > 0) out.note = `${dropped} repeated Scaphandre reading(s) dropped (served again because scrapes came less than 2 s apart)`;
      return out;
    });
  }
}
