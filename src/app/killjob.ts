/**
 * `killjob <exp>`: delete the experiment's groups on the Pushgateway (run windows, latency matrix),
 * destroy the services (destroy.yml, best effort, bounded), stop the ssh control
 * masters, release the platform, clear the state. Idempotent, and works after a crashed or
 * interrupted setup: from the state file in any phase, or from the platform's own files alone. When
 * the state folder is lost altogether, the experiment file says where to look: the platform gives
 * back what it finds by name (g5k: the user's live jobs with the experiment's job name), and the
 * services on hosts that outlive the experiment (static) are destroyed. `--by-name` does the same
 * search with a state folder too.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { closeControlMasters } from '../ansible/control.js';
import { ansibleCfgPath, inventoryPath } from '../ansible/config.js';
import { runPlaybook } from '../ansible/runner.js';
import { GreenraceError, InterruptedError, errorMessage } from '../core/errors.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import type { ServiceName } from '../core/types.js';
import { clusterSpec } from '../experiment/kubernetes.js';
import { loadExperiment } from '../experiment/load.js';
import { deleteExperimentGroups } from '../metrics/window.js';
import type { Experiment } from '../experiment/schema.js';
import { PLATFORM_KINDS, platformFor, type PlatformHandle, type PlatformKind } from '../platforms/index.js';
import { orderedServices, planServices } from '../services/registry.js';
import { missingRoles } from '../services/roles.js';
import { serviceExtraVars, writeAnsibleFiles } from './ansible-files.js';
import { destroyCluster } from './kubernetes.js';
import { deleteK8sServices } from './k8s-services.js';
import { clearState, experimentNameOf, lockState, readState, type ExperimentState } from './state.js';

export interface KilljobOptions {
  progress?: (line: string) => void;
  signal?: AbortSignal;
  /** Bound on destroy.yml (default 300 s); past it, killjob goes on with the release. */
  destroyTimeoutMs?: number;
  /** Also release what the platform finds by the experiment's name (g5k: live jobs named greenrace-<exp>). */
  byName?: boolean;
}

export interface KilljobOutcome {
  experiment: string;
  /** False when there was nothing to do. */
  didSomething: boolean;
  destroyed: ServiceName[];
  /** The Kubernetes cluster brought down (its distribution), when there was one. */
  cluster?: string;
  platform?: PlatformKind;
  hosts: number;
  warnings: string[];
  elapsedMs: number;
}

/** Whether setup got far enough that services may be running on the hosts. */
function servicesMayRun(st: ExperimentState): boolean {
  if (!st.platform || st.services.length === 0) return false;
  const phase = st.phase === 'failed' || st.phase === 'interrupted' ? st.failedPhase : st.phase;
  return phase === 'deploying' || phase === 'ready';
}

export async function killjob(ref: string, opts: KilljobOptions = {}): Promise<KilljobOutcome> {
  const started = Date.now();
  const progress = opts.progress ?? (() => {});
  const exp = experimentNameOf(ref);
  const dir = stateDirOf(exp);
  const outcome: KilljobOutcome = { experiment: exp, didSomething: false, destroyed: [], hosts: 0, warnings: [], elapsedMs: 0 };
  // No state folder: the experiment file (if any) says which platform and names to look for.
  const lost = existsSync(dir) ? undefined : experimentFileOf(ref);
  if (!existsSync(dir) && !lost) {
    outcome.elapsedMs = Date.now() - started;
    return outcome;
  }
  if (lost) progress(`no state for ${exp}: looking for what it left, from ${lost.files[0] ?? exp}`);
  outcome.didSomething = true;
  const lock = lockState(exp, `entrypoint killjob ${exp}`, dir);
  try {
    let st: ExperimentState | undefined;
    try {
      st = readState(dir);
    } catch (e) {
      outcome.warnings.push(`${errorMessage(e)}; releasing from the platform's own files`);
    }
    let handle = st?.platform;
    if (lost) {
      outcome.platform = lost.experiment.platform.kind;
      handle = await recoverHandle(lost, dir);
    }
    if (handle) {
      outcome.platform = handle.kind;
      outcome.hosts = handle.hosts.length;
    } else if (st) outcome.platform = st.platformKind;

    // The experiment's groups on the Pushgateway (run windows, the latency matrix), before it goes.
    const pg = st?.endpoints?.pushgateway_url;
    if (pg) {
      try {
        const gone = await deleteExperimentGroups(pg, exp, 5000);
        if (gone.length) progress(`deleted ${gone.length} Pushgateway group${gone.length > 1 ? 's' : ''} of ${exp} (run windows, latency matrix)`);
      } catch (e) {
        outcome.warnings.push(`deleting the run windows from the Pushgateway: ${errorMessage(e)}`);
      }
    }
    const onCluster = (st?.experimentSnapshot ?? lost?.experiment)?.runtime === 'k3s';
    if (onCluster && st && handle && servicesMayRun(st)) await deleteClusterServices(exp, dir, st.services, progress, outcome);
    else if (onCluster) {
      // the services lived in the cluster, which goes below
    } else if (st && handle && servicesMayRun(st)) await destroyServices(exp, dir, handle, st.experimentSnapshot, st.services, opts, outcome);
    else if (lost && handle) await destroyServices(exp, dir, handle, lost.experiment, lost.experiment.services, opts, outcome);
    // The cluster of runtime k3s, after the services and before the hosts go: container processes live
    // in the pods' own namespaces, which the platform's release does not reach.
    const cluster = st?.kubernetes ?? (lost ? clusterSpec(lost.experiment, lost.files[0] ? dirname(lost.files[0]) : process.cwd()) : undefined);
    if (handle && cluster) {
      if (!existsSync(inventoryPath(dir)) || !existsSync(ansibleCfgPath(dir))) writeAnsibleFiles(exp, dir, handle);
      try {
        outcome.warnings.push(...(await destroyCluster(dir, cluster, { progress, ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: opts.destroyTimeoutMs ?? 300_000 })));
        outcome.cluster = cluster.distribution;
      } catch (e) {
        if (e instanceof InterruptedError) throw new InterruptedError(`killjob of ${exp} interrupted; run it again to finish`);
        throw e;
      }
    }
    if (opts.signal?.aborted) throw new InterruptedError(`killjob of ${exp} interrupted; run it again to finish`);

    // Traffic shaping greenrace applied (net.netem): removed from the hosts, best effort (unreachable hosts are skipped).
    if (handle?.hosts.length && (st?.experimentSnapshot?.net?.netem?.length ?? 0) > 0) {
      const { clearNetem } = await import('./net.js');
      const removed = await clearNetem(handle.hosts.map((h) => ({ ...h, dataDir: handle.dataDirs[h.name] ?? `/tmp/greenrace/${h.name}` }))).catch((e: unknown) => {
        outcome.warnings.push(`removing network emulation: ${errorMessage(e)}`);
        return [] as string[];
      });
      if (removed.length) progress(`removed network emulation: ${removed.join(', ')}`);
    }

    const closed = await closeControlMasters(dir);
    if (closed.length) progress(`closed ${closed.length} ssh control connection${closed.length > 1 ? 's' : ''}`);

    // The platform from the state; without a readable state, each platform releases what its own files name.
    const kinds = st ? [st.platformKind] : lost ? [lost.experiment.platform.kind] : PLATFORM_KINDS;
    const named = lost?.experiment ?? (opts.byName ? (st?.experimentSnapshot ?? experimentFileOf(ref)?.experiment) : undefined);
    for (const kind of kinds) {
      let platform;
      try {
        platform = await platformFor(kind);
      } catch (e) {
        if (st || lost) throw e;
        continue; // a platform this build does not have cannot have left anything
      }
      const released = await platform.release(dir, handle, progress, named && named.platform.kind === kind ? { byName: { experiment: named, roles: named.roles } } : {});
      // With the state folder lost, there was something to do only if the platform found something.
      if (lost && !released.length && !outcome.destroyed.length) outcome.didSomething = false;
    }
    clearState(dir);
    outcome.elapsedMs = Date.now() - started;
    return outcome;
  } finally {
    lock.release();
  }
}

/** The experiment file of `ref`, loaded, or undefined when there is none (a broken one is an error). */
function experimentFileOf(ref: string): { experiment: Experiment; files: string[] } | undefined {
  try {
    return loadExperiment(ref);
  } catch (e) {
    if (e instanceof GreenraceError && e.code === 'config.not_found') return undefined;
    throw e;
  }
}

/** The hosts of a lost experiment whose hosts outlive it (static), from its file alone. */
async function recoverHandle(lost: { experiment: Experiment; files: string[] }, dir: string): Promise<PlatformHandle | undefined> {
  const platform = await platformFor(lost.experiment.platform.kind);
  if (!platform.recover || (!lost.experiment.services.length && lost.experiment.runtime !== 'k3s')) return undefined;
  return platform.recover({ experiment: lost.experiment, roles: lost.experiment.roles, stateDir: dir, ...(lost.files[0] ? { experimentFile: lost.files[0] } : {}) });
}

/** runtime k3s: the services' objects deleted through the API (best effort: the cluster goes next anyway). */
async function deleteClusterServices(exp: string, dir: string, services: ServiceName[], progress: (l: string) => void, outcome: KilljobOutcome): Promise<void> {
  if (!existsSync(join(dir, 'k8s', 'cluster.json'))) return;
  progress(`deleting services from the cluster: ${services.join(', ')}`);
  try {
    const gone = await deleteK8sServices(dir, exp);
    if (gone.length) progress(`deleted from the cluster: ${gone.join(', ')}`);
    outcome.destroyed = [...services];
    if (gone.length) outcome.didSomething = true;
  } catch (e) {
    outcome.warnings.push(`deleting the services from the cluster: ${errorMessage(e)}`);
  }
}

/** destroy.yml for the services that have a role, best effort and bounded; failures become warnings. */
async function destroyServices(
  exp: string,
  dir: string,
  handle: PlatformHandle,
  snapshot: Experiment,
  services: ServiceName[],
  opts: KilljobOptions,
  outcome: KilljobOutcome,
): Promise<void> {
  const defs = orderedServices(services).filter((d) => missingRoles([d]).length === 0);
  if (!defs.length) return;
  opts.progress?.(`destroying services: ${[...defs].reverse().map((d) => d.name).join(', ')}`);
  if (!existsSync(inventoryPath(dir)) || !existsSync(ansibleCfgPath(dir))) writeAnsibleFiles(exp, dir, handle);
  const plan = planServices({ ...snapshot, services: defs.map((d) => d.name) }, handle.hosts);
  try {
    const r = await runPlaybook({
      stateDir: dir,
      playbook: 'destroy',
      extraVars: serviceExtraVars(snapshot, plan),
      ...(opts.progress ? { progress: opts.progress } : {}),
      tolerate: 'all',
      timeoutMs: opts.destroyTimeoutMs ?? 300_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    outcome.destroyed = plan.services;
    for (const f of [...r.failures, ...r.ignored]) outcome.warnings.push(`${f.host} [${f.task}] ${f.status}: ${f.message.split('\n')[0] ?? ''}`);
  } catch (e) {
    if (e instanceof InterruptedError) throw new InterruptedError(`killjob of ${exp} interrupted; run it again to finish`);
    outcome.warnings.push(`destroying services: ${errorMessage(e)}${e instanceof GreenraceError && e.logFile ? ` (log: ${e.logFile})` : ''}`);
  }
}
