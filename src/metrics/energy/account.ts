/**
 * The energy account of a window: for each host, the best available source's joules (sources in
 * priority order; the first with data covering at least `minCoverage` of the window wins, else the
 * best-covered one), the total, and the dynamic energy (total minus the idle baseline's watts × the
 * window length). Every figure carries its source and coverage; hosts without any figure are listed
 * with the reasons each source gave.
 */
import { errorMessage } from '../../core/errors.js';
import type { EnergyFigure } from '../../runs/record.js';
import type { EnergyHost, EnergySource, EnergyWindow, HostEnergy } from './source.js';

/** Idle watts per host, as `entrypoint baseline` stores them. */
export interface Baseline {
  schema: 'greenrace.baseline/1';
  experiment: string;
  measuredAt: string;
  window: EnergyWindow;
  hosts: Record<string, { watts: number; source: string; kind: HostEnergy['kind']; coverage: number; note?: string }>;
}

export interface HostAccount extends HostEnergy {
  /** Idle power used for the dynamic figure, and its source (from the baseline). */
  idleWatts?: number;
  idleSource?: string;
  /** joules − idleWatts × window length; null without a baseline for this host. */
  dynamicJoules: number | null;
  /** What the other sources said for this host (source → joules or reason). */
  alternatives: Array<{ source: string; joules: number | null; fraction: number; note?: string }>;
}

export interface EnergyAccount {
  window: EnergyWindow;
  seconds: number;
  hosts: HostAccount[];
  /** Sum over hosts; null when any host has no figure (a partial sum would mislead). */
  totalJoules: number | null;
  /** Sum of the per-host dynamic figures; null when any is missing. */
  dynamicJoules: number | null;
  /** Mean power over the window, W (totalJoules / seconds). */
  meanWatts: number | null;
  /** Sources used (in host order, distinct). */
  sources: string[];
  /** Sources that failed as a whole (e.g. Prometheus unreachable): name → message. */
  errors: Record<string, string>;
}

export interface AccountOptions {
  /** Fraction of the window a figure must cover to be preferred (default 0.8). */
  minCoverage?: number;
  baseline?: Baseline;
}

export async function energyAccount(sources: EnergySource[], hosts: EnergyHost[], window: EnergyWindow, opts: AccountOptions = {}): Promise<EnergyAccount> {
  const minCoverage = opts.minCoverage ?? 0.8;
  const seconds = window.end - window.start;
  const ordered = [...sources].sort((a, b) => a.priority - b.priority);
  const errors: Record<string, string> = {};
  const answers: HostEnergy[][] = [];
  // Sources are independent: ask them all at once.
  const settled = await Promise.allSettled(ordered.map((s) => s.measure({ hosts, window })));
  settled.forEach((r, i) => {
    const src = ordered[i]!;
    if (r.status === 'fulfilled') answers.push(r.value);
    else {
      errors[src.name] = errorMessage(r.reason);
      answers.push(hosts.map((h) => ({ host: h.name, joules: null, source: src.name, coverage: { samples: 0, gaps: 0, coveredSeconds: 0, fraction: 0 }, note: `source failed: ${errorMessage(r.reason)}`, kind: 'measured' as const })));
    }
  });

  const out: HostAccount[] = hosts.map((h, hi) => {
    const candidates = answers.map((a) => a.find((x) => x.host === h.name) ?? a[hi]).filter((x): x is HostEnergy => x !== undefined);
    const withData = candidates.filter((c) => c.joules !== null);
    const chosen =
      withData.find((c) => c.coverage.fraction >= minCoverage) ??
      [...withData].sort((a, b) => b.coverage.fraction - a.coverage.fraction)[0];
    const alternatives = candidates
      .filter((c) => c !== chosen)
      .map((c) => ({ source: c.source, joules: c.joules, fraction: c.coverage.fraction, ...(c.note ? { note: c.note } : {}) }));
    if (!chosen) {
      return {
        host: h.name,
        joules: null,
        source: 'none',
        coverage: { samples: 0, gaps: 0, coveredSeconds: 0, fraction: 0 },
        kind: 'measured',
        note: `no source has data: ${candidates.map((c) => `${c.source}: ${c.note ?? 'no data'}`).join('; ')}`,
        dynamicJoules: null,
        alternatives,
      };
    }
    const acc: HostAccount = { ...chosen, dynamicJoules: null, alternatives };
    if (chosen.coverage.fraction < minCoverage) {
      acc.note = [chosen.note, `partial coverage: ${(chosen.coverage.fraction * 100).toFixed(0)} % of the window`].filter(Boolean).join('; ');
    }
    const b = opts.baseline?.hosts[h.name];
    if (b && chosen.joules !== null) {
      acc.idleWatts = b.watts;
      acc.idleSource = b.source;
      acc.dynamicJoules = chosen.joules - b.watts * seconds;
      if (b.source !== chosen.source) acc.note = [acc.note, `idle baseline came from ${b.source}, this figure from ${chosen.source}`].filter(Boolean).join('; ');
    }
    return acc;
  });

  const total = out.every((h) => h.joules !== null) ? out.reduce((s, h) => s + (h.joules ?? 0), 0) : null;
  const dynamic = out.every((h) => h.dynamicJoules !== null) && out.length > 0 ? out.reduce((s, h) => s + (h.dynamicJoules ?? 0), 0) : null;
  return {
    window,
    seconds,
    hosts: out,
    totalJoules: total,
    dynamicJoules: dynamic,
    meanWatts: total === null ? null : total / seconds,
    sources: [...new Set(out.map((h) => h.source))],
    errors,
  };
}

/** The run record's energy section from an account. */
export function toEnergyFigure(a: EnergyAccount): EnergyFigure {
  return {
    totalJoules: a.totalJoules,
    dynamicJoules: a.dynamicJoules,
    perHost: a.hosts.map((h) => ({
      host: h.host,
      joules: h.joules,
      source: h.source,
      samples: h.coverage.samples,
      gaps: h.coverage.gaps,
      ...(h.note ? { note: h.note } : {}),
    })),
    sources: a.sources,
  };
}

/** Idle watts per host from an account over an idle window (what `baseline` stores). */
export function baselineFromAccount(experiment: string, a: EnergyAccount, measuredAt = new Date().toISOString()): Baseline {
  const hosts: Baseline['hosts'] = {};
  for (const h of a.hosts) {
    if (h.joules === null) continue;
    hosts[h.host] = { watts: h.joules / a.seconds, source: h.source, kind: h.kind, coverage: h.coverage.fraction, ...(h.note ? { note: h.note } : {}) };
  }
  return { schema: 'greenrace.baseline/1', experiment, measuredAt, window: a.window, hosts };
}
