/**
 * The energy account of a window, per physical machine. Hosts that share a machine (see
 * machines.ts) read the same counters, so each machine is measured once: for each source, the
 * best-covered of its hosts' readings; across sources (in priority order), the first whose figure
 * covers at least `minCoverage` of the window, else the best-covered one (flagged). Every figure
 * carries its source, kind (measured / estimated) and coverage. With an idle baseline, each
 * machine gets idle joules (its idle watts × the window) and dynamic joules (total − idle). Per-host
 * figures are an attribution of the machine's joules (by CPU share when given) that adds up to it.
 */
import { errorMessage } from '../../core/errors.js';
import { ATTRIBUTION_NOTES, hostShares, type AttributionBasis } from './attribution.js';
import {
  baselineAge,
  baselineFromMachines,
  dynamicJoules,
  idleJoules,
  machineBaseline,
  normalizeBaseline,
  type Baseline,
  type EnergyKind,
} from './baseline.js';
import { groupByMachine, machineReading } from './machines.js';
import { NO_COVERAGE, type EnergyCoverage, type EnergyHost, type EnergySource, type EnergyWindow, type HostEnergy } from './source.js';

/** What another source said for a machine. */
export interface Alternative {
  source: string;
  joules: number | null;
  fraction: number;
  note?: string;
}

/** One machine's idle energy over the window, from the baseline. */
export interface IdleShare {
  /** Idle power from the baseline, W. */
  watts: number;
  /** watts × window seconds, J. */
  joules: number;
  source: string;
  kind: EnergyKind;
}

export interface MachineAccount {
  machine: string;
  /** Inventory names of its hosts. */
  hosts: string[];
  /** The host whose reading is the machine's figure (null without a figure). */
  reader: string | null;
  /** Joules over the window (one reading, never a sum over hosts), or null. */
  joules: number | null;
  /** joules / window seconds, W. */
  meanWatts: number | null;
  /** Source of the figure (`none` without one). */
  source: string;
  kind: EnergyKind;
  coverage: EnergyCoverage;
  note?: string;
  alternatives: Alternative[];
  /** Idle energy over the same window (null without a baseline entry for this machine). */
  idle: IdleShare | null;
  /** joules − idle.joules; null when either is missing. */
  dynamicJoules: number | null;
}

/** A host's attributed share of its machine's figure (not a measurement of its own). */
export interface HostAccount extends HostEnergy {
  machine: string;
  /** Fraction of the machine's figure attributed to this host; a machine's shares add up to 1. */
  share: number;
  basis: AttributionBasis;
  /** The attributed share of the machine's idle power, W. */
  idleWatts?: number;
  idleSource?: string;
  /** The attributed share of the machine's dynamic energy. */
  dynamicJoules: number | null;
  alternatives: Alternative[];
}

/** How the idle baseline was applied. */
export interface BaselineUse {
  /** `used`: every machine has an entry; `partial`: some lack one (no dynamic total); `none`: no baseline. */
  status: 'used' | 'partial' | 'none';
  measuredAt?: string;
  /** Measured before the last setup. */
  stale: boolean;
  ageSeconds?: number;
  /** Machines without a baseline entry. */
  missing: string[];
  /** What a reader must know: no baseline and how to take one, stale, converted, other source. */
  notes: string[];
}

export interface EnergyAccount {
  window: EnergyWindow;
  seconds: number;
  machines: MachineAccount[];
  /** Per-host attribution of the machines' figures (adds up to them). */
  hosts: HostAccount[];
  /** Sum over machines; null when any machine has no figure (a partial sum would mislead). */
  totalJoules: number | null;
  /** Mean power over the window, W (totalJoules / seconds). */
  meanWatts: number | null;
  /** `measured` when every machine's figure is, `estimated` when every one is a model, else `mixed`; null without figures. */
  kind: EnergyKind | 'mixed' | null;
  /** The worst machine's covered fraction of the window (0 when a machine has no figure). */
  coverage: number;
  /** Sum of the machines' idle energy over the window; null unless every machine has a baseline entry. */
  idleJoules: number | null;
  /** totalJoules − idleJoules; null when either is missing. */
  dynamicJoules: number | null;
  baseline: BaselineUse;
  /** How per-host figures were attributed. */
  attribution: string;
  /** Sources used (in machine order, distinct). */
  sources: string[];
  /** Sources that failed as a whole (e.g. Prometheus unreachable): name → message. */
  errors: Record<string, string>;
}

export interface AccountOptions {
  /** Fraction of the window a figure must cover to be preferred (default 0.8). */
  minCoverage?: number;
  /** The stored baseline (schema /2, or a /1 file as read from disk: converted per machine). */
  baseline?: Baseline | unknown;
  /** End of the last `setup` (ISO date, Date or epoch seconds): an older baseline is flagged stale. */
  setupAt?: string | number | Date;
  /** Host → CPU seconds its processes used in the window: per-host shares by CPU time. */
  hostCpuSeconds?: Record<string, number>;
}

const NO_BASELINE_NOTE = 'no idle baseline: dynamic energy needs one; measure it with `entrypoint baseline <experiment>` on the idle, set-up experiment';

const joinNotes = (...n: Array<string | undefined>): string | undefined => {
  const s = n.filter((x): x is string => !!x && x.length > 0);
  return s.length ? s.join('; ') : undefined;
};

export async function energyAccount(sources: EnergySource[], hosts: EnergyHost[], window: EnergyWindow, opts: AccountOptions = {}): Promise<EnergyAccount> {
  const minCoverage = opts.minCoverage ?? 0.8;
  const seconds = window.end - window.start;
  const ordered = [...sources].sort((a, b) => a.priority - b.priority);
  const errors: Record<string, string> = {};
  // Sources are independent: ask them all at once, for every host (a machine's reader is chosen after).
  const settled = await Promise.allSettled(ordered.map((s) => s.measure({ hosts, window })));
  const answers: HostEnergy[][] = settled.map((r, i) => {
    const src = ordered[i]!;
    if (r.status === 'fulfilled') return r.value;
    errors[src.name] = errorMessage(r.reason);
    return hosts.map((h) => ({ host: h.name, joules: null, source: src.name, coverage: { ...NO_COVERAGE }, note: `source failed: ${errorMessage(r.reason)}`, kind: 'measured' as const }));
  });

  const baseline = opts.baseline === undefined ? undefined : normalizeBaseline(opts.baseline, hosts);
  const machines: MachineAccount[] = groupByMachine(hosts).map((m) => {
    const names = m.hosts.map((h) => h.name);
    const readings = answers.map((a) => machineReading(m, a));
    const withData = readings.filter((r) => r.reading !== undefined);
    const chosen =
      withData.find((r) => r.reading!.coverage.fraction >= minCoverage) ??
      [...withData].sort((a, b) => b.reading!.coverage.fraction - a.reading!.coverage.fraction)[0];
    const alternatives: Alternative[] = readings
      .filter((r) => r !== chosen)
      .map((r) => {
        const x = r.reading ?? r.answers[0];
        return { source: x?.source ?? 'unknown', joules: x?.joules ?? null, fraction: x?.coverage.fraction ?? 0, ...(x?.note ? { note: x.note } : {}) };
      });
    if (!chosen) {
      return {
        machine: m.id,
        hosts: names,
        reader: null,
        joules: null,
        meanWatts: null,
        source: 'none',
        kind: 'measured',
        coverage: { ...NO_COVERAGE },
        note: `no source has data: ${readings.map((r) => `${r.answers[0]?.source ?? '?'}: ${r.answers[0]?.note ?? 'no data'}`).join('; ')}`,
        alternatives,
        idle: null,
        dynamicJoules: null,
      };
    }
    const r = chosen.reading!;
    const acc: MachineAccount = {
      machine: m.id,
      hosts: names,
      reader: r.host,
      joules: r.joules,
      meanWatts: r.joules === null || !(seconds > 0) ? null : r.joules / seconds,
      source: r.source,
      kind: r.kind,
      coverage: r.coverage,
      alternatives,
      idle: null,
      dynamicJoules: null,
    };
    const partial = r.coverage.fraction < minCoverage ? `partial coverage: ${(r.coverage.fraction * 100).toFixed(0)} % of the window` : undefined;
    const note = joinNotes(r.note, chosen.note, partial);
    if (note) acc.note = note;
    const b = baseline ? machineBaseline(baseline, m.id, names) : undefined;
    if (b) {
      acc.idle = { watts: b.watts, joules: idleJoules(b.watts, window), source: b.source, kind: b.kind };
      acc.dynamicJoules = dynamicJoules(acc.joules, acc.idle.joules);
      if (b.source !== r.source) acc.note = joinNotes(acc.note, `idle baseline came from ${b.source}, this figure from ${r.source}`);
    }
    return acc;
  });

  const hostAccounts: HostAccount[] = [];
  const bases = new Set<AttributionBasis>();
  for (const m of machines) {
    for (const s of hostShares(m.hosts, opts.hostCpuSeconds)) {
      bases.add(s.basis);
      const joules = m.joules === null ? null : m.joules * s.share;
      const h: HostAccount = {
        host: s.host,
        machine: m.machine,
        share: s.share,
        basis: s.basis,
        joules,
        meanWatts: joules === null || !(seconds > 0) ? null : joules / seconds,
        source: m.source,
        kind: m.kind,
        coverage: m.coverage,
        dynamicJoules: m.dynamicJoules === null ? null : m.dynamicJoules * s.share,
        alternatives: m.alternatives,
      };
      const note = joinNotes(m.note, s.basis === 'machine' ? undefined : `${(s.share * 100).toFixed(1)} % of machine ${m.machine}: ${ATTRIBUTION_NOTES[s.basis]}`);
      if (note) h.note = note;
      if (m.idle) {
        h.idleWatts = m.idle.watts * s.share;
        h.idleSource = m.idle.source;
      }
      hostAccounts.push(h);
    }
  }

  const complete = machines.length > 0 && machines.every((m) => m.joules !== null);
  const totalJoules = complete ? machines.reduce((s, m) => s + m.joules!, 0) : null;
  const kinds = new Set(machines.filter((m) => m.joules !== null).map((m) => m.kind));
  const kind = kinds.size === 0 ? null : kinds.size === 1 ? [...kinds][0]! : 'mixed';

  const use: BaselineUse = { status: 'none', stale: false, missing: [], notes: [] };
  let idleTotal: number | null = null;
  if (!baseline) use.notes.push(NO_BASELINE_NOTE);
  else {
    const age = baselineAge(baseline, opts.setupAt, window.start);
    use.measuredAt = baseline.measuredAt;
    use.stale = age.stale;
    if (age.ageSeconds !== undefined) use.ageSeconds = age.ageSeconds;
    if (age.note) use.notes.push(age.note);
    if (baseline.note) use.notes.push(baseline.note);
    use.missing = machines.filter((m) => m.idle === null).map((m) => m.machine);
    use.status = use.missing.length === 0 ? 'used' : 'partial';
    if (use.missing.length > 0) use.notes.push(`no idle baseline for machine(s) ${use.missing.join(', ')}: measure it again with \`entrypoint baseline <experiment>\``);
    if (use.status === 'used') idleTotal = machines.reduce((s, m) => s + m.idle!.joules, 0);
  }

  return {
    window,
    seconds,
    machines,
    hosts: hostAccounts,
    totalJoules,
    meanWatts: totalJoules === null || !(seconds > 0) ? null : totalJoules / seconds,
    kind,
    coverage: machines.length === 0 ? 0 : Math.min(...machines.map((m) => (m.joules === null ? 0 : m.coverage.fraction))),
    idleJoules: idleTotal,
    dynamicJoules: dynamicJoules(totalJoules, idleTotal),
    baseline: use,
    attribution: [...bases].map((b) => ATTRIBUTION_NOTES[b]).join('; '),
    sources: [...new Set(machines.map((m) => m.source))],
    errors,
  };
}

/** The energy section of a run record (run.json): per machine, the totals, and the per-host attribution. */
export interface RecordEnergy {
  totalJoules: number | null;
  idleJoules: number | null;
  dynamicJoules: number | null;
  meanWatts: number | null;
  kind: EnergyAccount['kind'];
  /** Worst machine coverage, 0..1. */
  coverage: number;
  sources: string[];
  machines: Array<{
    machine: string;
    hosts: string[];
    reader: string | null;
    joules: number | null;
    source: string;
    kind: EnergyKind;
    coverage: number;
    samples: number;
    gaps: number;
    idleWatts: number | null;
    idleJoules: number | null;
    idleSource: string | null;
    dynamicJoules: number | null;
    note?: string;
  }>;
  perHost: Array<{ host: string; machine: string; joules: number | null; share: number; basis: AttributionBasis; source: string; samples?: number; gaps?: number; note?: string }>;
  attribution: string;
  baseline: BaselineUse;
  error?: string;
}

export function toEnergyFigure(a: EnergyAccount): RecordEnergy {
  return {
    totalJoules: a.totalJoules,
    idleJoules: a.idleJoules,
    dynamicJoules: a.dynamicJoules,
    meanWatts: a.meanWatts,
    kind: a.kind,
    coverage: a.coverage,
    sources: a.sources,
    machines: a.machines.map((m) => ({
      machine: m.machine,
      hosts: m.hosts,
      reader: m.reader,
      joules: m.joules,
      source: m.source,
      kind: m.kind,
      coverage: m.coverage.fraction,
      samples: m.coverage.samples,
      gaps: m.coverage.gaps,
      idleWatts: m.idle?.watts ?? null,
      idleJoules: m.idle?.joules ?? null,
      idleSource: m.idle?.source ?? null,
      dynamicJoules: m.dynamicJoules,
      ...(m.note ? { note: m.note } : {}),
    })),
    perHost: a.hosts.map((h) => ({
      host: h.host,
      machine: h.machine,
      joules: h.joules,
      share: h.share,
      basis: h.basis,
      source: h.source,
      samples: h.coverage.samples,
      gaps: h.coverage.gaps,
      ...(h.note ? { note: h.note } : {}),
    })),
    attribution: a.attribution,
    baseline: a.baseline,
  };
}

/** The energy section of a run that has no account (no Prometheus, the account failed): why, and nothing else. */
export function unavailableEnergy(reason: string): RecordEnergy & { error: string } {
  return {
    totalJoules: null,
    idleJoules: null,
    dynamicJoules: null,
    meanWatts: null,
    kind: null,
    coverage: 0,
    sources: [],
    machines: [],
    perHost: [],
    attribution: '',
    baseline: { status: 'none', stale: false, missing: [], notes: [] },
    error: reason,
  };
}

/** Idle watts per machine from an account over an idle window (what `entrypoint baseline` stores). */
export function baselineFromAccount(experiment: string, a: EnergyAccount, measuredAt?: string): Baseline {
  return baselineFromMachines(experiment, a.window, a.machines, measuredAt);
}
