/**
 * `status <exp>`: what setup left, from the state folder, plus a live reachability probe.
 * Other areas add sections (e.g. scrape-target health) through STATUS_SECTIONS in
 * ./status-sections.ts; each returns lines for the terminal and data for `--json`.
 */
import { existsSync } from 'node:fs';
import { GreenraceError, errorMessage } from '../core/errors.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import { ROLES } from '../core/types.js';
import { platformFor } from '../platforms/index.js';
import type { HostStatus } from '../platforms/platform.js';
import { hostPattern, serviceDef, serviceHosts } from '../services/registry.js';
import { k8sPlacements, placementLine, type K8sPlacement } from './k8s-services.js';
import { readMetadata, type HostMetadata } from './metadata.js';
import { experimentNameOf, readState, type ExperimentState } from './state.js';
import { STATUS_SECTIONS, type StatusContext, type StatusSection } from './status-sections.js';

export interface HostRow {
  name: string;
  roles: string[];
  address: string;
  /** Undefined when not probed (`--no-check`) or the probe failed as a whole. */
  reachable?: boolean;
  detail?: string;
  metadata?: Pick<HostMetadata, 'hostname' | 'cpu_model' | 'cpu_cores' | 'cpu_threads' | 'memory_mb' | 'kernel' | 'os'>;
}

export interface ServiceRow {
  name: string;
  /** Where it runs: the host pattern (`all`, `control[0]`), or on a cluster its workload from the API ("DaemonSet on 4 nodes, 4/4 ready"). */
  group: string;
  hosts: string[];
  ports: Record<string, number>;
  /** On a cluster (runtime k3s): the workloads the API reports (absent with --no-check or when it did not answer). */
  k8s?: K8sPlacement[];
}

export interface StatusReport {
  experiment: string;
  stateDir: string;
  phase: ExperimentState['phase'];
  failedPhase?: ExperimentState['failedPhase'];
  lastError?: ExperimentState['lastError'];
  platform: string;
  hosts: HostRow[];
  services: ServiceRow[];
  endpoints: Record<string, string>;
  setupFinishedAt?: string;
  setupSeconds?: number;
  /** The last setup, when it skipped setup.yml (nothing changed): when, in how many seconds. */
  setupSkipped?: { at: string; seconds: number };
  sections: StatusSection[];
  warnings: string[];
}

export interface StatusOptions {
  /** Probe each host over SSH (default true). */
  check?: boolean;
}

export function notSetUp(exp: string): GreenraceError {
  return new GreenraceError('state.not_set_up', `experiment ${exp} is not set up; run \`entrypoint setup ${exp}\``);
}

export async function status(ref: string, opts: StatusOptions = {}): Promise<StatusReport> {
  const exp = experimentNameOf(ref);
  const dir = stateDirOf(exp);
  if (!existsSync(dir)) throw notSetUp(exp);
  const st = readState(dir);
  if (!st) {
    throw new GreenraceError('state.not_set_up', `experiment ${exp} has leftovers of an interrupted setup but no state; run \`entrypoint killjob ${exp}\``);
  }
  const warnings: string[] = [];
  const handle = st.platform;
  const metadata = readMetadata(dir);
  let probes: HostStatus[] | undefined;
  if (handle && opts.check !== false) {
    try {
      probes = await (await platformFor(handle.kind)).status(handle);
    } catch (e) {
      warnings.push(`could not check reachability: ${errorMessage(e)}`);
    }
  }
  const hosts: HostRow[] = (handle?.hosts ?? [])
    .slice()
    .sort((a, b) => ROLES.indexOf(a.roles[0] ?? 'worker') - ROLES.indexOf(b.roles[0] ?? 'worker'))
    .map((h) => {
      const p = probes?.find((x) => x.host === h.name);
      const m = metadata[h.name];
      const row: HostRow = { name: h.name, roles: [...h.roles], address: h.address };
      if (p) {
        row.reachable = p.reachable;
        if (p.detail && !p.reachable) row.detail = p.detail;
      }
      if (m) {
        row.metadata = {
          hostname: m.hostname,
          cpu_model: m.cpu_model,
          cpu_cores: m.cpu_cores,
          cpu_threads: m.cpu_threads,
          memory_mb: m.memory_mb,
          kernel: m.kernel,
          os: m.os,
        };
      }
      return row;
    });
  const onCluster = st.experimentSnapshot.runtime === 'k3s';
  let placements: Record<string, K8sPlacement[]> | undefined;
  if (onCluster && st.services.length && opts.check !== false) {
    try {
      placements = await k8sPlacements(dir, exp);
    } catch (e) {
      warnings.push(`could not ask the cluster where the services run: ${errorMessage(e)}`);
    }
  }
  const services: ServiceRow[] = st.services.map((name) => {
    const d = serviceDef(name);
    const row: ServiceRow = {
      name,
      group: hostPattern(d),
      hosts: handle ? serviceHosts(d, handle.hosts).map((h) => h.name) : [],
      ports: d.ports(st.experimentSnapshot),
    };
    if (!onCluster) return row;
    const on = placements?.[name];
    if (!placements) return { ...row, group: 'the cluster (not asked)' };
    if (!on?.length) return { ...row, group: 'nothing on the cluster', hosts: [], k8s: [] };
    return { ...row, group: on.map(placementLine).join('; '), hosts: [...new Set(on.flatMap((p) => p.nodes))], k8s: on };
  });
  const ctx: StatusContext = { experiment: exp, stateDir: dir, state: st, hosts: handle?.hosts ?? [] };
  const sections: StatusSection[] = [];
  for (const provider of STATUS_SECTIONS) {
    try {
      const s = await provider(ctx);
      if (s) sections.push(s);
    } catch (e) {
      warnings.push(`status section failed: ${errorMessage(e)}`);
    }
  }
  return {
    experiment: exp,
    stateDir: dir,
    phase: st.phase,
    ...(st.failedPhase ? { failedPhase: st.failedPhase } : {}),
    ...(st.lastError ? { lastError: st.lastError } : {}),
    platform: st.platformKind,
    hosts,
    services,
    endpoints: st.endpoints,
    ...(st.setupFinishedAt ? { setupFinishedAt: st.setupFinishedAt } : {}),
    ...(st.setupSeconds !== undefined ? { setupSeconds: st.setupSeconds } : {}),
    ...(st.setupSkipped ? { setupSkipped: st.setupSkipped } : {}),
    sections,
    warnings,
  };
}
