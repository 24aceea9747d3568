/**
 * Sweep factors that change what `setup` deployed (broker count, broker settings, broker kind,
 * runtime): which factors they are, the setup groups of a schedule (runs sharing the same values of
 * those factors, so the cluster is set up once per group), the order of the groups (the one already
 * deployed first), and how a group's setup differs from what is deployed. Pure.
 */
import { canonicalJson, type FactorValue, type ScheduledRun } from './grid.js';

/** Paths whose change needs the hosts made again (killjob, then setup), not only setup re-run on them. */
const RECREATE_PREFIXES = ['roles.', 'platform.'];

/** The key of the workload's section that names the broker kind (`ingest.broker`): it changes the services deployed. */
export const BROKER_KINDS = ['kafka', 'redpanda'] as const;

/**
 * Is this factor path a setup factor for a workload whose section is `section`? Every path outside
 * the section is one (roles, kafka.*, redpanda.*, runtime, services, monitoring …), and so is the
 * section's broker kind (`ingest.broker`): swapping it swaps the broker service.
 */
export function isSetupPath(path: string, section: string): boolean {
  return !path.startsWith(`${section}.`) || path === `${section}.broker`;
}

/** Does changing these paths need the hosts made again (roles, platform) rather than setup run again on them? */
export function needsRecreate(paths: string[]): boolean {
  return paths.some((p) => RECREATE_PREFIXES.some((x) => p.startsWith(x)));
}

export interface SetupGroup {
  /** Stable identity: canonical JSON of the setup factors' values (`{"roles.broker":2}`). */
  key: string;
  /** Setup factor path → its value in this group. */
  assignments: Record<string, FactorValue>;
  runs: ScheduledRun[];
}

/** `roles.broker=2, kafka.heap=1g` (or `as set up` for a sweep without setup factors). */
export function setupLabel(assignments: Record<string, unknown>): string {
  const e = Object.entries(assignments);
  return e.length ? e.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') : 'as set up';
}

export function setupKey(assignments: Record<string, unknown>): string {
  return canonicalJson(assignments);
}

function assignmentsOf(run: ScheduledRun, setupPaths: string[]): Record<string, FactorValue> {
  const out: Record<string, FactorValue> = {};
  for (const p of setupPaths) if (p in run.point.assignments) out[p] = run.point.assignments[p]!;
  return out;
}

/**
 * The runs grouped by their setup factors' values, groups in order of first appearance, runs in
 * schedule order inside each group. `first` (a group key, e.g. what is deployed now) goes first
 * when present, so the sweep starts without a redeploy.
 */
export function setupGroups(runs: ScheduledRun[], setupPaths: string[], first?: string): SetupGroup[] {
  const groups = new Map<string, SetupGroup>();
  for (const r of runs) {
    const assignments = assignmentsOf(r, setupPaths);
    const key = setupKey(assignments);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, assignments, runs: [] }));
    g.runs.push(r);
  }
  const all = [...groups.values()];
  const i = first === undefined ? -1 : all.findIndex((g) => g.key === first);
  if (i > 0) all.unshift(...all.splice(i, 1));
  return all;
}

/** Read a dotted path from a plain object (the experiment as set up). */
export function valueAt(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The setup factors' values in a deployed experiment (its snapshot in the state), as a group key. */
export function deployedKey(snapshot: unknown, setupPaths: string[]): string {
  const out: Record<string, unknown> = {};
  for (const p of setupPaths) out[p] = valueAt(snapshot, p);
  return setupKey(out);
}

/** The setup paths whose value in `assignments` differs from the deployed snapshot's. */
export function changedPaths(snapshot: unknown, assignments: Record<string, unknown>): string[] {
  return Object.entries(assignments)
    .filter(([p, v]) => canonicalJson(valueAt(snapshot, p)) !== canonicalJson(v))
    .map(([p]) => p);
}

/**
 * The services list for a broker kind: the other broker kind replaced by this one (or added when
 * neither is listed). Used for the broker-kind factor (`ingest.broker`), whose value alone would
 * point the runs at a broker that is not deployed.
 */
export function servicesForBroker(services: readonly string[], kind: string): string[] {
  const others = BROKER_KINDS.filter((k) => k !== kind) as string[];
  const i = services.findIndex((s) => others.includes(s) || s === kind);
  const out = services.filter((s) => !others.includes(s));
  if (!out.includes(kind)) out.splice(i < 0 ? out.length : Math.min(i, out.length), 0, kind);
  return out;
}
