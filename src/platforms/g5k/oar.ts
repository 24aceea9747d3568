import type { Role, RoleSizes } from '../../core/types.js';
import { ROLES } from '../../core/types.js';
import { PlatformError } from '../../core/errors.js';
import type { JobSubmission } from './types.js';
import { clusterOfNode, fqdnOf } from './presets.js';

/** The command of a job that only holds nodes: a year of sleep (OAR jobs need a command). */
export const HOLD_COMMAND = 'sleep 31536000';

/** What one role asks for once the config is resolved. */
export interface RolePlacement {
  role: Role;
  count: number;
  site: string;
  cluster: string;
  /** Specific nodes (fqdns), or none for "any N nodes of the cluster". */
  nodes: string[];
}

/** One job at one site. */
export interface SiteJobSpec {
  site: string;
  name: string;
  /** `{cluster='paravance'}/nodes=6,walltime=02:00:00` */
  resources: string;
  submission: JobSubmission;
  placements: RolePlacement[];
}

export interface JobOptions {
  name: string;
  walltime: string;
  queue: string;
  project?: string;
  types: string[];
  reservation?: string;
}

/** `1:00` → `01:00:00`; `2:30:00` → `02:30:00`. */
export function normaliseWalltime(w: string): string {
  const parts = w.split(':').map((p) => Number(p));
  const [h, m, s] = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(h)}:${p2(m)}:${p2(s)}`;
}

export function walltimeSeconds(w: string): number {
  const [h, m, s] = normaliseWalltime(w).split(':').map(Number) as [number, number, number];
  return h * 3600 + m * 60 + s;
}

/**
 * The OAR resource string for one site: specific nodes first (as a `network_address in (...)` term),
 * then one `{cluster='X'}/nodes=N` term per cluster summing the roles placed there; `+` between terms.
 */
export function resourceString(placements: RolePlacement[], walltime: string): string {
  const specific = placements.flatMap((p) => p.nodes);
  const perCluster = new Map<string, number>();
  for (const p of placements) if (p.nodes.length === 0 && p.count > 0) perCluster.set(p.cluster, (perCluster.get(p.cluster) ?? 0) + p.count);
  const terms: string[] = [];
  if (specific.length) terms.push(`{network_address in (${specific.map((n) => `'${n}'`).join(', ')})}/nodes=${specific.length}`);
  for (const [cluster, n] of perCluster) terms.push(`{cluster='${cluster}'}/nodes=${n}`);
  return `${terms.join('+')},walltime=${normaliseWalltime(walltime)}`;
}

export function jobSpecs(placements: RolePlacement[], o: JobOptions): SiteJobSpec[] {
  const bySite = new Map<string, RolePlacement[]>();
  for (const p of placements) if (p.count > 0) bySite.set(p.site, [...(bySite.get(p.site) ?? []), p]);
  return [...bySite].map(([site, ps]) => {
    const resources = resourceString(ps, o.walltime);
    const submission: JobSubmission = {
      name: o.name,
      resources,
      command: HOLD_COMMAND,
      types: [...new Set(o.types)],
      queue: o.queue,
    };
    if (o.project) submission.project = o.project;
    if (o.reservation) submission.reservation = o.reservation;
    return { site, name: o.name, resources, submission, placements: ps };
  });
}

/**
 * Hand the job's nodes out to roles: specific nodes to the roles that named them, then the other nodes
 * of each cluster in node-number order, control first, then broker, then worker.
 */
export function assignRoles(placements: RolePlacement[], assigned: string[], site: string): Map<Role, string[]> {
  const nodeNum = (n: string): number => Number(/-(\d+)(\.|$)/.exec(n)?.[1] ?? 0);
  const free = [...assigned].sort((a, b) => clusterOfNode(a).localeCompare(clusterOfNode(b)) || nodeNum(a) - nodeNum(b));
  const out = new Map<Role, string[]>();
  const take = (n: string): boolean => {
    const i = free.indexOf(n);
    if (i < 0) return false;
    free.splice(i, 1);
    return true;
  };
  for (const role of ROLES) {
    for (const p of placements.filter((x) => x.role === role && x.nodes.length)) {
      const missing = p.nodes.filter((n) => !take(fqdnOf(n, site)));
      if (missing.length) throw new PlatformError('g5k.job.nodes_mismatch', `OAR did not assign the requested nodes ${missing.join(', ')} to role ${role}`, { hosts: missing });
      out.set(role, [...(out.get(role) ?? []), ...p.nodes.map((n) => fqdnOf(n, site))]);
    }
  }
  for (const role of ROLES) {
    for (const p of placements.filter((x) => x.role === role && !x.nodes.length)) {
      const got: string[] = [];
      for (const n of [...free]) {
        if (got.length === p.count) break;
        if (clusterOfNode(n) === p.cluster && take(n)) got.push(n);
      }
      if (got.length < p.count)
        throw new PlatformError('g5k.job.nodes_mismatch', `the job holds ${got.length} node(s) of ${p.cluster} for role ${role}, ${p.count} wanted`);
      out.set(role, [...(out.get(role) ?? []), ...got]);
    }
  }
  return out;
}

export function sizesTotal(s: RoleSizes): number {
  return ROLES.reduce((a, r) => a + s[r], 0);
}

/** What OAR said about a refused submission. */
export type OarRefusal =
  | { kind: 'could_run_at'; date: string; message: string }
  | { kind: 'too_old'; message: string }
  | { kind: 'other'; message: string };

export function parseOarRefusal(message: string): OarRefusal {
  const m = /could run at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?)/i.exec(message);
  if (m) return { kind: 'could_run_at', date: m[1]!, message };
  if (/reservation too old/i.test(message)) return { kind: 'too_old', message };
  return { kind: 'other', message };
}
