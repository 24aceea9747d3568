/**
 * `setup <exp>`: load the experiment → lock its state → reserve (or reattach to) hosts → write
 * state → inventory + ansible.cfg → setup.yml (SSH, facts, metadata, services) → endpoints into
 * state. Re-running converges: the platform reattaches, services no longer listed are destroyed,
 * the rest is deployed again idempotently.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { renderAnsibleCfg, metadataDir } from '../ansible/config.js';
import { inventoryYaml } from '../ansible/inventory.js';
import { runPlaybook, type PlaybookResult } from '../ansible/runner.js';
import { formatTimings } from '../ansible/timings.js';
import { clusterSpec } from '../experiment/kubernetes.js';
import { loadExperiment } from '../experiment/load.js';
import type { Experiment } from '../experiment/schema.js';
import { ConfigError, GreenraceError, InterruptedError, UsageError, errorMessage } from '../core/errors.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import type { ServiceName } from '../core/types.js';
import { platformFor, type PlatformKind } from '../platforms/index.js';
import { ReservationKeptError, type Platform, type PlatformHandle, type ReserveRequest } from '../platforms/platform.js';
import { expectedTargets, orderedServices, planServices, type ExpectedTarget, type ServicePlan } from '../services/registry.js';
import type { TargetsWait } from '../metrics/targets-report.js';
import { missingRoles } from '../services/roles.js';
import { inventoryOf, serviceExtraVars, writeAnsibleFiles } from './ansible-files.js';
import { checkK8sServices, deployK8sServices } from './k8s-services.js';
import { clusterJsonPath, deployVars, destroyCluster, kubeconfigPath, type ClusterState } from './kubernetes.js';
import { readMetadata, type HostMetadata } from './metadata.js';
import { greenraceVersion, mustRun, setupFingerprint, silentHosts, silentServices, skipLine, stoppedSince } from './setup-inplace.js';
import { STATE_VERSION, clearState, lockState, readState, writeState, type ExperimentState } from './state.js';

export interface SetupOptions {
  exp: string;
  /** `--workers N` → roles.worker (N ≥ 1). */
  workers?: number;
  /** `--platform` → platform.kind. */
  platform?: PlatformKind;
  /** `--inventory FILE` → platform.static.inventory (relative to the working directory). */
  inventory?: string;
  set?: string[];
  dryRun?: boolean;
  progress?: (line: string) => void;
  verbose?: boolean;
  signal?: AbortSignal;
  /** Seconds setup.yml waits for SSH on each host. */
  connectTimeout?: number;
  /** Run setup.yml even when everything is in place (the same inputs as the last setup, every host and service answering). */
  converge?: boolean;
}

export interface DryRunOutcome {
  kind: 'dry-run';
  experiment: Experiment;
  files: string[];
  stateDir: string;
  platformLines: string[];
  inventoryYaml: string;
  ansibleCfg: string;
  services: ServicePlan;
  /** True when the experiment is already set up (setup would reattach). */
  alreadySetUp: boolean;
}

export interface SetupOutcome {
  kind: 'setup';
  experiment: Experiment;
  stateDir: string;
  handle: PlatformHandle;
  reattached: boolean;
  services: ServicePlan;
  /** Services destroyed because the experiment no longer lists them. */
  removedServices: ServiceName[];
  endpoints: Record<string, string>;
  metadata: Record<string, HostMetadata>;
  /** setup.yml's run; absent when it was skipped (`inPlace`). */
  playbook?: PlaybookResult;
  /** The line saying why setup.yml was skipped: everything was in place. */
  inPlace?: string;
  /** Setup's wait for Prometheus' scrape targets (absent without Prometheus). */
  targets?: TargetsWait & { timeoutMs: number; summary: string[] };
  elapsedMs: number;
}

/** The flags of `setup` as loader overrides (each names its flag in errors). */
export function setupOverrides(opts: Pick<SetupOptions, 'workers' | 'platform' | 'inventory'>): Array<{ path: string; value: unknown; flag: string }> {
  const out: Array<{ path: string; value: unknown; flag: string }> = [];
  if (opts.workers !== undefined) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new UsageError('usage.bad_workers', `--workers must be a whole number of at least 1 (got ${opts.workers})`);
    }
    out.push({ path: 'roles.worker', value: opts.workers, flag: '--workers' });
  }
  if (opts.platform !== undefined) out.push({ path: 'platform.kind', value: opts.platform, flag: '--platform' });
  if (opts.inventory !== undefined) {
    out.push({ path: 'platform.static.inventory', value: absInventory(opts.inventory), flag: '--inventory' });
  }
  return out;
}

const absInventory = (p: string): string => (isAbsolute(p) ? p : resolve(process.cwd(), p));

function loadForSetup(opts: SetupOptions): { experiment: Experiment; files: string[] } {
  const { experiment, files } = loadExperiment(opts.exp, { set: opts.set ?? [], overrides: setupOverrides(opts) });
  // runtime k3s: the services run on the cluster (objects, not roles); refuse those without manifests.
  if (experiment.runtime === 'k3s') {
    checkK8sServices(experiment.services, files[0]);
    return { experiment, files };
  }
  const missing = missingRoles(orderedServices(experiment.services));
  if (missing.length) {
    const names = missing.map((d) => d.name);
    throw new ConfigError(
      'config.service_without_role',
      `${files[0]}: services: ${names.join(', ')} cannot be deployed yet: there is no Ansible role ansible/roles/${names.length > 1 ? '<name>' : names[0]}`,
      { file: files[0], path: 'services', hint: `remove ${names.join(', ')} from services (or --set services=[...])` },
    );
  }
  return { experiment, files };
}

function reserveRequest(experiment: Experiment, files: string[], dir: string, opts: SetupOptions): ReserveRequest {
  return {
    experiment,
    roles: experiment.roles,
    stateDir: dir,
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(files[0] ? { experimentFile: files[0] } : {}),
    ...(opts.inventory !== undefined ? { inventoryFile: absInventory(opts.inventory) } : {}),
  };
}

/** `setup --dry-run`: the platform's plan, the inventory and the services. Creates nothing. */
export async function setupDryRun(opts: SetupOptions): Promise<DryRunOutcome> {
  const { experiment, files } = loadForSetup(opts);
  const dir = stateDirOf(experiment.name);
  const platform = await platformFor(experiment.platform.kind);
  const plan = await platform.plan(reserveRequest(experiment, files, dir, opts));
  // Data folders and the controller address are assigned at reservation.
  const handleLike: PlatformHandle = { kind: experiment.platform.kind, data: {}, hosts: plan.hosts, dataDirs: {}, sharedFilesystem: plan.sharedFilesystem };
  const inv = inventoryOf(experiment.name, dir, handleLike);
  return {
    kind: 'dry-run',
    experiment,
    files,
    stateDir: dir,
    platformLines: plan.lines,
    inventoryYaml: inventoryYaml(inv) + '# gr_data_dir (per host) and gr_controller_address are set when the hosts are reserved\n',
    ansibleCfg: renderAnsibleCfg({ stateDir: dir, hostCount: plan.hosts.length }),
    services: planServices(experiment, plan.hosts),
    alreadySetUp: existsSync(dir) && readState(dir) !== undefined,
  };
}

/** Destroy services an earlier setup deployed that the experiment no longer lists (best effort). */
async function destroyDropped(
  dir: string,
  experiment: Experiment,
  handle: PlatformHandle,
  dropped: ServiceName[],
  opts: SetupOptions,
): Promise<void> {
  if (!dropped.length) return;
  opts.progress?.(`removing services no longer listed: ${dropped.join(', ')}`);
  const plan = planServices({ ...experiment, services: dropped }, handle.hosts);
  const present = orderedServices(dropped).filter((d) => !missingRoles([d]).length);
  const r = await runPlaybook({
    stateDir: dir,
    playbook: 'destroy',
    extraVars: serviceExtraVars(experiment, { ...plan, services: present.map((d) => d.name) }),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    tolerate: 'all',
    timeoutMs: 300_000,
  });
  for (const f of [...r.failures, ...r.ignored]) opts.progress?.(`warning: destroying on ${f.host} [${f.task}]: ${f.message.split('\n')[0]}`);
}

/** One setup as it goes: the experiment, its state as last written, and whether a failed first reservation was undone. */
interface SetupRun {
  opts: SetupOptions;
  progress: (line: string) => void;
  experiment: Experiment;
  files: string[];
  dir: string;
  platform: Platform;
  prev: ExperimentState | undefined;
  freshDir: boolean;
  st?: ExperimentState;
  rolledBack: boolean;
  /** Hosts of the last ready setup whose SSH port did not answer before reattaching (probed only when setup.yml might be skipped). */
  deadHosts?: string[];
}

/** The state as `reserving`, after checking the experiment does not change platform while set up. */
function beginState(s: SetupRun): ExperimentState {
  const { experiment, prev } = s;
  const kind = experiment.platform.kind;
  if (prev && prev.platformKind !== kind) {
    throw new UsageError('state.platform_changed', `experiment ${experiment.name} is set up on the ${prev.platformKind} platform; it cannot move to ${kind} while set up`, {
      hint: `run \`entrypoint killjob ${experiment.name}\` first`,
    });
  }
  const now = new Date().toISOString();
  return writeState(s.dir, {
    version: STATE_VERSION,
    experiment: experiment.name,
    phase: 'reserving',
    platformKind: kind,
    ...(prev?.platform ? { platform: prev.platform } : {}),
    experimentSnapshot: experiment,
    files: s.files,
    services: prev?.services ?? [],
    endpoints: prev?.endpoints ?? {},
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    setupStartedAt: now,
  });
}

/** The hosts (reattached when set up before); a failed first reservation gives back what it started. */
async function reserveHosts(s: SetupRun): Promise<PlatformHandle> {
  const { experiment, prev, platform, dir, progress } = s;
  const r = experiment.roles;
  const kind = experiment.platform.kind;
  progress(prev?.platform ? `reattaching to the ${kind} hosts of ${experiment.name}` : `reserving hosts on the ${kind} platform: control ${r.control}, broker ${r.broker}, worker ${r.worker}`);
  try {
    return await platform.reserve(reserveRequest(experiment, s.files, dir, s.opts), prev?.platform);
  } catch (e) {
    const interrupted = e instanceof InterruptedError || s.opts.signal?.aborted;
    // A reservation the platform keeps (a queued job that did not start in time) stays for setup to reattach.
    if (!prev && s.freshDir && !interrupted && !(e instanceof ReservationKeptError)) {
      // A first reservation that failed: give back what this setup started, leave nothing behind.
      try {
        await platform.release(dir, undefined, progress);
        clearState(dir);
        s.rolledBack = true;
      } catch (re) {
        progress(`could not undo the reservation (${errorMessage(re)}); run killjob ${experiment.name}`);
      }
    }
    throw e;
  }
}

/**
 * The cluster of `runtime: k3s` this setup wants (undefined on runtime host). A cluster an earlier
 * setup made that is no longer wanted (runtime back to host, another distribution) is brought down first.
 */
async function clusterFor(s: SetupRun): Promise<ClusterState | undefined> {
  const spec = clusterSpec(s.experiment, s.files[0] ? dirname(s.files[0]) : process.cwd());
  const was = s.prev?.kubernetes;
  if (was && (!spec || was.distribution !== spec.distribution)) {
    s.progress(`the experiment no longer asks for the ${was.distribution} cluster: bringing it down`);
    for (const w of await destroyCluster(s.dir, was, { progress: s.progress, ...(s.opts.signal ? { signal: s.opts.signal } : {}) })) s.progress(`warning: ${w}`);
    const { kubernetes: _k, ...rest } = s.st!;
    s.st = writeState(s.dir, rest);
  }
  return spec ? { distribution: spec.distribution, vars: spec.vars } : undefined;
}

interface Deployed {
  plan: ServicePlan;
  dropped: ServiceName[];
  /** setup.yml's run; absent when it was skipped. */
  result?: PlaybookResult;
  /** Why it was skipped. */
  inPlace?: string;
  fingerprint: string;
  /** The services' main ports that do not answer now. */
  silent: string[];
}

/**
 * The line saying setup.yml can be skipped (same inputs as the last ready setup, every host
 * answering before the reattach, every service that answered then answering now), or undefined after
 * printing why it runs.
 */
async function inPlace(s: SetupRun, plan: ServicePlan, handle: PlatformHandle, dropped: ServiceName[], fingerprint: string, cluster: boolean): Promise<string | undefined> {
  const prev = s.prev;
  let why = mustRun(prev, fingerprint, { ...(s.opts.converge ? { converge: true } : {}), dropped, cluster });
  if (why === undefined && s.deadHosts?.length) why = `not answering on SSH before the reattach: ${s.deadHosts.join(', ')}`;
  if (why === undefined) {
    const stopped = stoppedSince(await silentServices(plan, handle.hosts), prev!.setupSilent!);
    if (stopped.length) why = `no longer answering: ${stopped.join(', ')}`;
  }
  if (why === undefined) return skipLine(prev!);
  if (why) s.progress(`running setup.yml: ${why}`);
  return undefined;
}

/** Services no longer listed destroyed, setup.yml on the hosts (the cluster of runtime k3s first), the network emulation of `netem_apply: setup`; or nothing when everything is in place. */
async function deployOn(s: SetupRun, handle: PlatformHandle): Promise<Deployed> {
  const { experiment, dir, opts, progress } = s;
  const plan = planServices(experiment, handle.hosts);
  const dropped = (s.prev?.services ?? []).filter((x) => !plan.services.includes(x));
  const cluster = await clusterFor(s);
  const fingerprint = setupFingerprint({ greenrace: greenraceVersion(), experiment, extraVars: { ...serviceExtraVars(experiment, plan), gr_connect_timeout: undefined }, handle, services: plan.services });
  const skipped = await inPlace(s, plan, handle, dropped, fingerprint, Boolean(cluster));
  if (skipped) {
    progress(skipped);
    return { plan, dropped, inPlace: skipped, fingerprint, silent: s.prev?.setupSilent ?? [] };
  }
  // Record what is about to be deployed before deploying it, so killjob knows after a crash.
  s.st = writeState(dir, { ...s.st!, phase: 'deploying', services: [...new Set([...plan.services, ...dropped])], ...(cluster ? { kubernetes: cluster } : {}) });
  // On the cluster, services are objects: the play brings the cluster up, then they are applied.
  const onCluster = Boolean(cluster);
  if (!onCluster) await destroyDropped(dir, experiment, handle, dropped, opts);
  if (dropped.length) s.st = writeState(dir, { ...s.st, services: plan.services });
  const what = [cluster ? `Kubernetes (${cluster.distribution})` : '', plan.services.length ? `services: ${plan.services.join(', ')}` : ''].filter(Boolean).join(', then ');
  progress(`running setup.yml on ${handle.hosts.length} hosts (${what || 'no services'})`);
  const result = await runPlaybook({
    stateDir: dir,
    playbook: 'setup',
    extraVars: {
      ...serviceExtraVars(experiment, onCluster ? { ...plan, services: [], hostPatterns: {} } : plan, opts.connectTimeout !== undefined ? { connectTimeout: opts.connectTimeout } : {}),
      ...(cluster ? deployVars(cluster) : {}),
    },
    progress,
    ...(opts.verbose ? { verbose: true } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (onCluster) {
    const hosts = handle.hosts.map((h) => ({ ...h, dataDir: handle.dataDirs[h.name] ?? `/tmp/greenrace/${h.name}` }));
    await deployK8sServices({ stateDir: dir, experiment, hosts, plan, dropped, progress, ...(opts.signal ? { signal: opts.signal } : {}) });
  }
  if (experiment.net.netem.length && experiment.net.netem_apply === 'setup') {
    // Network emulation for the experiment's lifetime (killjob removes it).
    const { applyExperimentNetem } = await import('./net.js');
    const hosts = handle.hosts.map((h) => ({ ...h, dataDir: handle.dataDirs[h.name] ?? `/tmp/greenrace/${h.name}` }));
    const rules = await applyExperimentNetem({ exp: opts.exp, set: opts.set ?? [], overrides: setupOverrides(opts), hosts, stateDir: dir, ...(opts.signal ? { signal: opts.signal } : {}) });
    progress(`network emulation applied on ${Object.keys(rules).join(', ')}`);
  }
  // What answers now is what a later setup with the same inputs expects to find answering (a service
  // that does not run here by design, e.g. Scaphandre without energy counters, stays silent).
  const silent = await silentServices(plan, handle.hosts);
  return { plan, dropped, result, fingerprint, silent };
}

/**
 * Wait (bounded: 10 scrape intervals, at least 30 s) until Prometheus reports every target it is
 * expected to scrape up, so that `status` right after `setup` finds them up. Targets that stay down
 * or unscraped are returned for the summary to name; setup itself is done either way.
 */
async function waitForScrapeTargets(s: SetupRun, plan: ServicePlan, expected: ExpectedTarget[], skipped: boolean): Promise<SetupOutcome['targets']> {
  const url = plan.endpoints.prometheus_url;
  if (!url) return undefined;
  // After a skipped play the targets were up after the last setup: one look, no wait.
  const timeoutMs = skipped ? 0 : Math.max(30_000, 10 * s.experiment.monitoring.scrape_interval * 1000);
  const { notUpLines, waitForTargetsUp } = await import('../metrics/targets-report.js');
  const r = await waitForTargetsUp(url, expected, { timeoutMs, progress: s.progress, ...(s.opts.signal ? { signal: s.opts.signal } : {}) });
  const up = r.rows.filter((x) => x.state === 'up').length;
  const summary = r.allUp
    ? [`scrape targets: ${up}/${r.rows.length} up (${skipped ? 'setup.yml skipped' : `${(r.elapsedMs / 1000).toFixed(1)} s after the play`})`]
    : [
        `warning: scrape targets not all up ${skipped ? 'now' : `after ${timeoutMs / 1000} s`}: ${r.error ? `Prometheus did not answer (${r.error})` : `${up}/${r.rows.length} up; not up:`}`,
        ...notUpLines(r.rows).map((l) => `  ${l}`),
        `  \`entrypoint status ${s.experiment.name}\` shows them again`,
      ];
  return { ...r, timeoutMs, summary };
}

/** The cluster's endpoints once up: the admin kubeconfig and the API server (from the roles' cluster.json). */
function clusterEndpoints(dir: string, cluster: ClusterState | undefined): Record<string, string> {
  if (!cluster) return {};
  const out: Record<string, string> = { kubeconfig: kubeconfigPath(dir) };
  try {
    const server = (JSON.parse(readFileSync(clusterJsonPath(dir), 'utf8')) as { server?: string }).server;
    if (server) out.kubernetes_api_url = server;
  } catch {
    // the roles always write it on deploy; without it the kubeconfig alone is given
  }
  return out;
}

/** A failed or interrupted setup: the state says in which phase and why; the error says what to run next. */
function recordFailure(s: SetupRun, e: unknown): unknown {
  const { experiment, dir, opts, st } = s;
  const interrupted = e instanceof InterruptedError || Boolean(opts.signal?.aborted);
  if (st && !s.rolledBack && existsSync(dir)) {
    const ge = e instanceof GreenraceError ? e : undefined;
    try {
      writeState(dir, { ...st, phase: interrupted ? 'interrupted' : 'failed', failedPhase: st.phase, lastError: { code: ge?.code ?? 'internal', message: errorMessage(e), ...(ge?.logFile ? { logFile: ge.logFile } : {}) } });
    } catch {
      /* the folder went away under us */
    }
    if (e instanceof GreenraceError && !e.hint) {
      (e as { hint?: string }).hint = interrupted
        ? `run \`entrypoint killjob ${experiment.name}\` to clean up, or \`entrypoint setup ${experiment.name}\` to carry on`
        : `fix the cause and run \`entrypoint setup ${experiment.name}\` again (it reattaches), or \`entrypoint killjob ${experiment.name}\``;
    }
  }
  if (e instanceof InterruptedError || (opts.signal?.aborted && !(e instanceof GreenraceError))) {
    return e instanceof InterruptedError ? e : new InterruptedError(`setup of ${experiment.name} interrupted`);
  }
  return e;
}

export async function setup(opts: SetupOptions): Promise<SetupOutcome> {
  const started = Date.now();
  const { experiment, files } = loadForSetup(opts);
  const platform = await platformFor(experiment.platform.kind);
  const dir = stateDirOf(experiment.name);
  const freshDir = !existsSync(dir);
  const lock = lockState(experiment.name, `entrypoint setup ${experiment.name}`, dir);
  const s: SetupRun = { opts, progress: opts.progress ?? (() => {}), experiment, files, dir, platform, prev: undefined, freshDir, rolledBack: false };
  try {
    s.prev = readState(dir);
    // Probed before the platform reattaches (a local reattach recreates a dead host and restarts its sshd).
    if (!opts.converge && s.prev?.phase === 'ready' && s.prev.setupFingerprint && s.prev.platform) s.deadHosts = await silentHosts(s.prev.platform.hosts);
    s.st = beginState(s);
    const handle = await reserveHosts(s);
    s.st = writeState(dir, { ...s.st, phase: 'reserved', platform: handle });
    writeAnsibleFiles(experiment.name, dir, handle);
    mkdirSync(metadataDir(dir), { recursive: true });
    const { plan, dropped, result, inPlace: skipped, fingerprint, silent } = await deployOn(s, handle);
    const expected = result ? expectedTargets(plan, result.custom) : (s.prev?.scrapeTargets ?? []);
    const targets = await waitForScrapeTargets(s, plan, expected, !result);
    const metadata = readMetadata(dir);
    const elapsedMs = Date.now() - started;
    const { failedPhase: _f, lastError: _l, setupSkipped: _k, ...rest } = s.st;
    const scrapeTargets = targets ? expected : undefined;
    const endpoints = { ...plan.endpoints, ...clusterEndpoints(dir, s.st.kubernetes) };
    const seconds = Math.round(elapsedMs / 100) / 10;
    const now = new Date().toISOString();
    // A skipped play changed nothing on the hosts: the last deploying setup keeps its date and time (an
    // idle baseline measured after it stays valid) and the skip is recorded beside them.
    const when = result
      ? { setupFinishedAt: now, setupSeconds: seconds }
      : { ...(s.prev?.setupFinishedAt ? { setupFinishedAt: s.prev.setupFinishedAt } : {}), ...(s.prev?.setupSeconds !== undefined ? { setupSeconds: s.prev.setupSeconds } : {}), setupSkipped: { at: now, seconds } };
    s.st = writeState(dir, { ...rest, phase: 'ready', services: plan.services, endpoints, ...(scrapeTargets ? { scrapeTargets } : {}), ...when, setupFingerprint: fingerprint, setupSilent: silent });
    const reattached = Boolean(s.prev?.platform);
    return { kind: 'setup', experiment, stateDir: dir, handle, reattached, services: plan, removedServices: dropped, endpoints, metadata, ...(result ? { playbook: result } : {}), ...(skipped ? { inPlace: skipped } : {}), ...(targets ? { targets } : {}), elapsedMs };
  } catch (e) {
    throw recordFailure(s, e);
  } finally {
    lock.release();
  }
}

/** `setup --timings`: the slowest tasks of the run's setup.yml, and its share of the whole setup. */
export function setupTimingLines(r: SetupOutcome, n = 15): string[] {
  const pb = r.playbook;
  if (!pb) return [`  ${r.inPlace ?? 'setup.yml skipped'}; setup took ${(r.elapsedMs / 1000).toFixed(1)} s`];
  return [
    ...formatTimings('setup.yml', pb.timings, n),
    `  setup.yml ran ${(pb.elapsedMs / 1000).toFixed(1)} s of the ${(r.elapsedMs / 1000).toFixed(1)} s of setup; log: ${pb.logFile}`,
  ];
}
