/**
 * The idle baseline: each machine's idle power (W), measured by `entrypoint baseline` with the same
 * sources as the runs, with its date and source. Pure functions: idle joules over a window
 * (watts × seconds), dynamic joules (total − idle), whether a baseline is older than the last
 * setup, and reading an older per-host baseline file (schema /1) as per-machine.
 */
import { RunError } from '../../core/errors.js';
import { groupByMachine, machineOf } from './machines.js';
import type { EnergyHost, EnergyWindow, HostEnergy } from './source.js';

export type EnergyKind = HostEnergy['kind'];

/** One machine's idle power. */
export interface MachineBaseline {
  /** Mean idle power over the baseline window, W. */
  watts: number;
  /** The source it came from (`rapl:package`, `scaphandre`, `kwollect:…`, `model`). */
  source: string;
  kind: EnergyKind;
  /** Fraction of the baseline window covered by samples. */
  coverage: number;
  /** Inventory names of the hosts on this machine when the baseline was taken. */
  hosts: string[];
  note?: string;
}

/** `.greenrace/<exp>/baseline.json`. */
export interface Baseline {
  schema: 'greenrace.baseline/2';
  experiment: string;
  /** When the idle window ended (ISO 8601). */
  measuredAt: string;
  window: EnergyWindow;
  /** Idle watts per machine id. */
  machines: Record<string, MachineBaseline>;
  /** Host → machine id, for every host covered by `machines`. */
  hosts: Record<string, string>;
  /** Set when this baseline was converted from an older file. */
  note?: string;
}

/** The per-host file written before machines were accounted once (every host of a machine held a copy of the machine's watts). */
export interface BaselineV1 {
  schema: 'greenrace.baseline/1';
  experiment: string;
  measuredAt: string;
  window: EnergyWindow;
  hosts: Record<string, { watts: number; source: string; kind: EnergyKind; coverage: number; note?: string }>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A baseline file's content as schema /2. A /1 file (per host) becomes per machine with `hosts`
 * telling which host is on which machine: a machine keeps the best-covered of its hosts' entries
 * (they read the same counters, so they are copies, not parts). Throws `energy.baseline.invalid`
 * naming what is wrong otherwise.
 */
export function normalizeBaseline(raw: unknown, hosts: readonly EnergyHost[] = [], file = 'baseline.json'): Baseline {
  const bad = (why: string): never => {
    throw new RunError('energy.baseline.invalid', `${file}: ${why}; measure it again with \`entrypoint baseline <experiment>\``);
  };
  if (!isObj(raw)) return bad('not a JSON object');
  const w = raw.window;
  if (!isObj(w) || typeof w.start !== 'number' || typeof w.end !== 'number') return bad('no window {start, end}');
  if (typeof raw.measuredAt !== 'string') return bad('no measuredAt date');
  const experiment = typeof raw.experiment === 'string' ? raw.experiment : '';
  const wattsOk = (e: unknown): boolean => isObj(e) && typeof e.watts === 'number' && Number.isFinite(e.watts) && typeof e.source === 'string';
  if (raw.schema === 'greenrace.baseline/2') {
    if (!isObj(raw.machines) || !isObj(raw.hosts)) return bad('schema /2 needs "machines" and "hosts"');
    for (const [m, e] of Object.entries(raw.machines)) if (!wattsOk(e)) bad(`machine ${m} has no watts/source`);
    return raw as unknown as Baseline;
  }
  if (raw.schema === 'greenrace.baseline/1') {
    if (!isObj(raw.hosts)) return bad('schema /1 needs "hosts"');
    const v1 = raw as unknown as BaselineV1;
    for (const [h, e] of Object.entries(v1.hosts)) if (!wattsOk(e)) bad(`host ${h} has no watts/source`);
    const known = new Map(hosts.map((h) => [h.name, h]));
    const machines: Record<string, MachineBaseline> = {};
    const hostMap: Record<string, string> = {};
    for (const [name, e] of Object.entries(v1.hosts)) {
      const m = machineOf(known.get(name) ?? { name });
      hostMap[name] = m;
      const prev = machines[m];
      if (!prev) machines[m] = { watts: e.watts, source: e.source, kind: e.kind, coverage: e.coverage, hosts: [name], ...(e.note ? { note: e.note } : {}) };
      else {
        prev.hosts.push(name);
        if (e.coverage > prev.coverage) Object.assign(prev, { watts: e.watts, source: e.source, kind: e.kind, coverage: e.coverage });
      }
    }
    return {
      schema: 'greenrace.baseline/2',
      experiment,
      measuredAt: v1.measuredAt,
      window: v1.window,
      machines,
      hosts: hostMap,
      note: 'converted from a per-host baseline (schema /1): one entry per machine kept',
    };
  }
  return bad(`unknown schema ${JSON.stringify(raw.schema)}`);
}

/** Idle energy of a machine over a window: its idle watts × the window's length, J. */
export function idleJoules(watts: number, window: EnergyWindow): number {
  return watts * (window.end - window.start);
}

/** Dynamic energy: total − idle, J (negative when the machine used less than at idle); null when either is unknown. */
export function dynamicJoules(total: number | null, idle: number | null): number | null {
  return total === null || idle === null ? null : total - idle;
}

export interface BaselineAge {
  /** True when the baseline was measured before the last setup (hosts or services may have changed since). */
  stale: boolean;
  /** Seconds between the baseline and the reference time (the run's start), when both are known. */
  ageSeconds?: number;
  note?: string;
}

const epochMs = (t: string | number | Date): number => (t instanceof Date ? t.getTime() : typeof t === 'number' ? t * 1000 : Date.parse(t));

/**
 * Whether a baseline still describes the machines: it is stale when measured before the last
 * `setup` ended (`setupAt`: ISO date, Date, or epoch seconds). `at` (the run's window start) gives its age.
 */
export function baselineAge(b: Pick<Baseline, 'measuredAt'>, setupAt?: string | number | Date, at?: number): BaselineAge {
  const measured = Date.parse(b.measuredAt);
  if (!Number.isFinite(measured)) return { stale: true, note: `the baseline's date ${JSON.stringify(b.measuredAt)} is not a date: measure it again` };
  const out: BaselineAge = { stale: false };
  if (at !== undefined) out.ageSeconds = Math.max(0, at - measured / 1000);
  if (setupAt !== undefined) {
    const s = epochMs(setupAt);
    if (Number.isFinite(s) && measured < s) {
      out.stale = true;
      out.note = `the idle baseline (${b.measuredAt}) is older than the last setup (${new Date(s).toISOString()}): measure it again with \`entrypoint baseline <experiment>\``;
    }
  }
  return out;
}

/** A machine's energy figure as the baseline needs it (from an account over an idle window). */
export interface IdleFigure {
  machine: string;
  hosts: string[];
  joules: number | null;
  source: string;
  kind: EnergyKind;
  coverage: { fraction: number };
  note?: string;
}

/** The baseline file from per-machine figures over an idle window (what `entrypoint baseline` stores). */
export function baselineFromMachines(experiment: string, window: EnergyWindow, machines: readonly IdleFigure[], measuredAt = new Date(window.end * 1000).toISOString()): Baseline {
  const seconds = window.end - window.start;
  const out: Baseline = { schema: 'greenrace.baseline/2', experiment, measuredAt, window, machines: {}, hosts: {} };
  for (const m of machines) {
    if (m.joules === null || !(seconds > 0)) continue;
    out.machines[m.machine] = {
      watts: m.joules / seconds,
      source: m.source,
      kind: m.kind,
      coverage: m.coverage.fraction,
      hosts: [...m.hosts],
      ...(m.note ? { note: m.note } : {}),
    };
    for (const h of m.hosts) out.hosts[h] = m.machine;
  }
  return out;
}

/** The baseline entry of a machine: by its id, else through any of its hosts (a machine id changed since). */
export function machineBaseline(b: Baseline, machine: string, hosts: readonly string[]): MachineBaseline | undefined {
  const direct = b.machines[machine];
  if (direct) return direct;
  for (const h of hosts) {
    const m = b.hosts[h];
    if (m !== undefined && b.machines[m]) return b.machines[m];
  }
  return undefined;
}

/** Machines of `hosts` that have no baseline entry. */
export function machinesWithoutBaseline(b: Baseline, hosts: readonly EnergyHost[]): string[] {
  return groupByMachine(hosts)
    .filter((m) => !machineBaseline(b, m.id, m.hosts.map((h) => h.name)))
    .map((m) => m.id);
}
