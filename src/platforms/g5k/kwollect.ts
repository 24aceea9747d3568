import type { G5kApi } from './api.js';
import { clusterOfNode, clusterPreset, shortName, siteOfFqdn } from './presets.js';
import type { MetricSample } from './types.js';

export const WATTMETRE = 'wattmetre_power_watt';
export const BMC = 'bmc_node_power_watt';
export type PowerMetric = typeof WATTMETRE | typeof BMC;

export interface KwollectHost {
  /** Inventory name. */
  host: string;
  fqdn: string;
}

export interface KwollectHostEnergy {
  host: string;
  joules: number;
  /** e.g. `kwollect:wattmetre_power_watt`. */
  source: string;
  /** Share of the window covered by samples (0..1). */
  coverage: number;
  samples: number;
  gaps: number;
  coveredSeconds: number;
  meanWatts: number;
}

export interface KwollectOptions {
  metric?: 'auto' | PowerMetric;
  /** Time chunk per request, s (Kwollect caps answer sizes). */
  chunkSeconds?: number;
  nodesPerRequest?: number;
  /** Does the cluster have wattmetres? Default: the reference API's metric list, else the presets. */
  hasWattmetre?: (site: string, cluster: string) => Promise<boolean>;
}

/**
 * Kwollect timestamps: ISO with a UTC offset and microseconds (`2025-04-18T18:55:33.754307+02:00`).
 * A time without an offset is Europe/Paris local time (Kwollect's convention), with the offset of
 * that day (+01:00 in winter, +02:00 in summer).
 */
export function parseKwollectTime(ts: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(ts.trim().replace(' ', 'T'));
  if (!m) return Number.NaN;
  const frac = m[2] ? Number(`0.${m[2]}`) : 0;
  const zone = m[3];
  if (zone) return Date.parse(`${m[1]}${zone === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`) / 1000 + frac;
  return parisLocalToEpoch(Date.parse(`${m[1]}Z`) / 1000) + frac;
}

const PARIS_OFFSET = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', timeZoneName: 'longOffset' });

/** Seconds Europe/Paris is ahead of UTC at epoch `t`. */
export function parisOffsetSeconds(t: number): number {
  const name = PARIS_OFFSET.formatToParts(new Date(t * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const m = /([+-])(\d{1,2})(?::(\d{2}))?/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60) : 0;
}

/** Epoch of a Paris wall-clock time given as if it were UTC (`localAsUtc`). */
function parisLocalToEpoch(localAsUtc: number): number {
  const guess = localAsUtc - parisOffsetSeconds(localAsUtc);
  return localAsUtc - parisOffsetSeconds(guess);
}

/**
 * Trapezoid integral of power samples (t in epoch s, W) over [start, end]. Samples outside the window
 * are used to interpolate its edges; a window edge beyond the samples holds the nearest value when the
 * gap is small (at most 2 sampling periods). Coverage counts the window time that has samples no
 * further apart than 3 periods.
 */
export function integrate(
  samples: { t: number; w: number }[],
  start: number,
  end: number,
): { joules: number; coverage: number; gaps: number; coveredSeconds: number } {
  const s = [...samples].filter((x) => Number.isFinite(x.t) && Number.isFinite(x.w)).sort((a, b) => a.t - b.t);
  const window = end - start;
  if (s.length === 0 || window <= 0) return { joules: 0, coverage: 0, gaps: 0, coveredSeconds: 0 };
  const gaps = s.slice(1).map((x, i) => x.t - s[i]!.t).filter((g) => g > 0).sort((a, b) => a - b);
  const period = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : window;
  const at = (t: number): number => {
    // linear interpolation inside the samples, hold outside
    if (t <= s[0]!.t) return s[0]!.w;
    if (t >= s[s.length - 1]!.t) return s[s.length - 1]!.w;
    let lo = 0;
    let hi = s.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (s[mid]!.t <= t) lo = mid;
      else hi = mid;
    }
    const a = s[lo]!;
    const b = s[hi]!;
    return b.t === a.t ? a.w : a.w + ((b.w - a.w) * (t - a.t)) / (b.t - a.t);
  };
  const pts = [{ t: start, w: at(start) }, ...s.filter((x) => x.t > start && x.t < end), { t: end, w: at(end) }];
  let joules = 0;
  let uncovered = 0;
  let gapCount = 0;
  const first = s[0]!.t;
  const last = s[s.length - 1]!.t;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const dt = b.t - a.t;
    joules += ((a.w + b.w) / 2) * dt;
  }
  // uncovered time: before the first sample / after the last beyond 2 periods, inner gaps beyond 3 periods
  if (first > start + 2 * period) uncovered += Math.min(first, end) - start;
  if (last < end - 2 * period) uncovered += end - Math.max(last, start);
  const inner = s.filter((x) => x.t >= start && x.t <= end);
  for (let i = 1; i < inner.length; i++) {
    const g = inner[i]!.t - inner[i - 1]!.t;
    if (g > 3 * period) {
      uncovered += g;
      gapCount++;
    }
  }
  const coverage = Math.max(0, Math.min(1, 1 - uncovered / window));
  return { joules, coverage, gaps: gapCount, coveredSeconds: coverage * window };
}

async function fetchSeries(
  api: G5kApi,
  site: string,
  nodes: string[],
  metric: PowerMetric,
  start: number,
  end: number,
  o: KwollectOptions,
): Promise<Map<string, { t: number; w: number }[]>> {
  const chunk = o.chunkSeconds ?? 1800;
  const per = o.nodesPerRequest ?? 10;
  const out = new Map<string, Map<number, number>>();
  // one sampling period of margin on each side so the edges can be interpolated
  const margin = metric === WATTMETRE ? 2 : 10;
  const from = start - margin;
  const to = end + margin;
  for (let i = 0; i < nodes.length; i += per) {
    const group = nodes.slice(i, i + per);
    for (let t = from; t < to; t += chunk) {
      const samples: MetricSample[] = await api.metrics(site, { nodes: group.map(shortName), metrics: [metric], start: t, end: Math.min(t + chunk, to) });
      for (const x of samples) {
        if (x.metric_id !== metric) continue;
        const series = out.get(x.device_id) ?? new Map<number, number>();
        series.set(parseKwollectTime(x.timestamp), Number(x.value));
        out.set(x.device_id, series);
      }
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].map(([t, w]) => ({ t, w }))]));
}

export async function defaultHasWattmetre(api: G5kApi, site: string, cluster: string): Promise<boolean> {
  try {
    const c = await api.cluster(site, cluster);
    return (c.metrics ?? []).some((m) => m.name === WATTMETRE);
  } catch {
    return clusterPreset(cluster)?.wattmetre ?? false;
  }
}

/**
 * Energy per host from Kwollect over [start, end] (epoch s): wattmetre_power_watt where the cluster
 * has wattmetres (and the node has samples), else bmc_node_power_watt; one request per site, node group
 * and time chunk; trapezoid rule; source and coverage per host.
 */
export async function kwollectEnergy(api: G5kApi, hosts: KwollectHost[], start: number, end: number, o: KwollectOptions = {}): Promise<KwollectHostEnergy[]> {
  const bySite = new Map<string, KwollectHost[]>();
  for (const h of hosts) {
    const site = siteOfFqdn(h.fqdn);
    if (!site) throw new Error(`${h.fqdn} is not a Grid'5000 node name (<node>.<site>.grid5000.fr)`);
    bySite.set(site, [...(bySite.get(site) ?? []), h]);
  }
  const result: KwollectHostEnergy[] = [];
  // One reference-API lookup per cluster, not per host.
  const wattmetre = new Map<string, Promise<boolean>>();
  const hasWattmetre = (site: string, cluster: string): Promise<boolean> => {
    const key = `${site}/${cluster}`;
    let p = wattmetre.get(key);
    if (!p) {
      p = o.hasWattmetre ? o.hasWattmetre(site, cluster) : defaultHasWattmetre(api, site, cluster);
      wattmetre.set(key, p);
    }
    return p;
  };
  for (const [site, hs] of bySite) {
    const want = new Map<string, PowerMetric>();
    for (const h of hs) {
      let metric: PowerMetric;
      if (o.metric && o.metric !== 'auto') metric = o.metric;
      else metric = (await hasWattmetre(site, clusterOfNode(h.fqdn))) ? WATTMETRE : BMC;
      want.set(h.fqdn, metric);
    }
    const series = new Map<string, { metric: PowerMetric; s: { t: number; w: number }[] }>();
    for (const metric of [WATTMETRE, BMC] as const) {
      const nodes = hs.filter((h) => want.get(h.fqdn) === metric).map((h) => h.fqdn);
      if (!nodes.length) continue;
      const got = await fetchSeries(api, site, nodes, metric, start, end, o);
      for (const n of nodes) {
        const s = got.get(shortName(n)) ?? [];
        if (s.length) series.set(n, { metric, s });
        else if (metric === WATTMETRE && o.metric !== WATTMETRE) want.set(n, BMC); // no wattmetre data: the BMC pass takes it
      }
    }
    for (const h of hs) {
      const got = series.get(h.fqdn) ?? { metric: want.get(h.fqdn) ?? BMC, s: [] };
      const { joules, coverage, gaps, coveredSeconds } = integrate(got.s, start, end);
      result.push({
        host: h.host,
        joules,
        source: `kwollect:${got.metric}`,
        coverage,
        gaps,
        coveredSeconds,
        samples: got.s.filter((x) => x.t >= start && x.t <= end).length,
        meanWatts: end > start ? joules / (end - start) : 0,
      });
    }
  }
  return result;
}
