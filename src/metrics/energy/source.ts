/**
 * The energy source interface. Every way of turning a time window into joules for a set of hosts
 * (Scaphandre, node_exporter RAPL, Kwollect wattmetres on Grid'5000, a CPU-utilisation power model)
 * implements `EnergySource`; `account.ts` asks each in order of preference and keeps, per physical
 * machine, the best answer that has data. This interface is stable: sources outside src/metrics (the Kwollect
 * source in src/platforms/g5k/) are written against it.
 */

/** A measurement window in epoch seconds, [start, end], end > start. */
export interface EnergyWindow {
  start: number;
  end: number;
}

/** One host as energy sources see it. */
export interface EnergyHost {
  /** Inventory name, e.g. `lc1` or `taurus-3`. */
  name: string;
  /** Address its exporters listen on (node_exporter at address:9100 is `instance="address:9100"`). */
  address: string;
  /**
   * How Prometheus labels this host's series: the `instance` label values that belong to it
   * (e.g. `["10.77.0.11:9100"]`). When absent, sources derive it from `address`.
   */
  instances?: string[];
  /** Site-specific identifiers a source may need (e.g. the Grid'5000 node name and site for Kwollect). */
  attributes?: Record<string, string>;
  /**
   * The physical machine it runs on (`Host.machine`, set by the platform). Hosts with the same value
   * read the same counters and are accounted once; absent: the host is its own machine.
   */
  machine?: string;
}

/** How much of the window a host's figure is backed by data. */
export interface EnergyCoverage {
  /** Samples (scrapes, wattmetre readings) inside the window. */
  samples: number;
  /** Gaps: intervals between consecutive samples longer than `gapThreshold` (or the expected step × 2). */
  gaps: number;
  /** Seconds of the window covered by samples (first to last sample, minus gap time), 0..window length. */
  coveredSeconds: number;
  /** coveredSeconds / window length, 0..1. */
  fraction: number;
  /** Counter resets or wraps seen (and compensated) inside the window. */
  resets?: number;
}

/** One host's energy from one source. */
export interface HostEnergy {
  host: string;
  /** Joules over the window, or null when the source has no usable data for this host. */
  joules: number | null;
  /** The source name, e.g. `scaphandre`, `rapl:package`, `kwollect:wattmetre_power_watt`, `model`. */
  source: string;
  coverage: EnergyCoverage;
  /** Mean power over the window in watts (joules / seconds) when joules is known. */
  meanWatts?: number | null;
  /** Why the figure is null or what to be careful about (no counters, partial coverage, estimate). */
  note?: string;
  /** Whether the figure is a measurement or a model estimate. */
  kind: 'measured' | 'estimated';
}

export interface EnergyQuery {
  hosts: EnergyHost[];
  window: EnergyWindow;
  /** Abort long fetches. */
  signal?: AbortSignal;
}

export interface EnergySource {
  /** Stable name shown in reports (`scaphandre`, `rapl`, `kwollect`, `model`). */
  readonly name: string;
  /** Lower is preferred: scaphandre 10, kwollect 20, rapl 30, model 90. */
  readonly priority: number;
  /**
   * Joules per host over the window. Must return one entry per requested host, in order, with
   * `joules: null` and a `note` for hosts it cannot measure; throw only when the source as a whole is
   * unreachable (Prometheus or an API down), with an error that names the source and the reason.
   */
  measure(query: EnergyQuery): Promise<HostEnergy[]>;
}

export function windowSeconds(w: EnergyWindow): number {
  return w.end - w.start;
}

/** An empty coverage (no data at all). */
export const NO_COVERAGE: EnergyCoverage = Object.freeze({ samples: 0, gaps: 0, coveredSeconds: 0, fraction: 0 });

/** A "no data" entry for a host. */
export function noData(host: string, source: string, note: string, kind: HostEnergy['kind'] = 'measured'): HostEnergy {
  return { host, joules: null, source, coverage: { ...NO_COVERAGE }, note, kind };
}
