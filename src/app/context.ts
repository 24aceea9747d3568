/**
 * The RunContext (interface: src/workloads/contract.ts), made once per command: the experiment
 * loaded once (with its overrides), the state read and the phase checked once, the hosts with
 * their folders, the endpoints, the runtime's executor; then each run's id, folder and record.
 */
import { existsSync } from 'node:fs';
import { inventoryPath } from '../ansible/config.js';
import { UsageError } from '../core/errors.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import type { WorkHost } from '../core/types.js';
import type { LoadOptions } from '../config/loader.js';
import { loadExperiment } from '../experiment/load.js';
import type { Experiment } from '../experiment/schema.js';
import { errorMessage } from '../core/errors.js';
import { toEnergyFigure, unavailableEnergy, type EnergyAccount } from '../metrics/energy/index.js';
import { RUN_JOB, RunWindowMarker } from '../metrics/window.js';
import type { RunWindow } from '../core/types.js';
import { newRunId } from '../runs/run-id.js';
import type { CampaignTag } from '../runs/record.js';
import type { Executor } from '../runtimes/executor.js';
import { HostExecutor } from '../runtimes/host/executor.js';
import { k8sExecutorFor } from '../runtimes/k8s/executor.js';
import type { BrokerAccess, PreflightOptions, RunContext, RunHandle, ToolNeed, Workload } from '../workloads/contract.js';
import { writeAnsibleFiles } from './ansible-files.js';
import { brokerAccess, publishScrapeTargets } from './brokers.js';
import { hostFacts, withNetem, withPcp } from './context-extras.js';
import { measureEnergy, type EnergyWhere } from './energy.js';
import { readMetadata } from './metadata.js';
import { preflight } from './preflight.js';
import { LiveRun } from './run-life.js';
import { readState, type ExperimentState } from './state.js';

export interface ContextOptions {
  /** Experiment name or file. */
  exp: string;
  set?: string[];
  overrides?: LoadOptions['overrides'];
  /** Hosts given directly (tests, the shell): no state, no phase check; `stateDir` lets Ansible reach them. */
  hosts?: WorkHost[];
  stateDir?: string;
  /** Pushgateway URL with given hosts (default: the state's endpoint). */
  pushgatewayUrl?: string;
  /** Prometheus URL with given hosts (run energy; default: the state's endpoint). */
  prometheusUrl?: string;
  executor?: Executor;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  /** The campaign (search / sweep) the runs of this context belong to: written in their records from the start. */
  campaign?: CampaignTag;
}

type SetUp = ExperimentState & { platform: NonNullable<ExperimentState['platform']> };

/**
 * The one phase check of every run command: the experiment is set up and ready. Exit 2 with the
 * command to run (replaces ingest.not_setup, state.not_set_up and net.no_hosts).
 */
export function requireReady(exp: string, dir = stateDirOf(exp)): SetUp {
  const st = readState(dir);
  const setup = `entrypoint setup ${exp}`;
  if (!st || !st.platform || st.platform.hosts.length === 0) {
    throw new UsageError('experiment.not_ready', `experiment ${exp} is not set up${st ? ` (its setup is ${st.phase})` : ''}`, { hint: `run \`${setup}\` first` });
  }
  if (st.phase !== 'ready') {
    throw new UsageError('experiment.not_ready', `experiment ${exp} is not ready (its setup is ${st.phase})`, { hint: `run \`${setup}\` again` });
  }
  return st as SetUp;
}

/** The hosts of a set-up experiment with their data folders. */
export function workHosts(st: SetUp): WorkHost[] {
  const p = st.platform;
  return p.hosts.map((h) => ({ ...h, dataDir: p.dataDirs[h.name] ?? `/tmp/greenrace/${h.name}` }));
}

interface Where {
  experiment: Experiment;
  where: (path: string) => string;
  hosts: WorkHost[];
  endpoints: Record<string, string>;
  deployed: string[];
  metadata: Record<string, unknown>;
  stateDir?: string;
  knownHosts?: string;
}

function locate(o: ContextOptions): Where {
  const { experiment, where } = loadExperiment(o.exp, { set: o.set ?? [], ...(o.overrides ? { overrides: o.overrides } : {}) });
  if (o.hosts) {
    const endpoints: Record<string, string> = {
      ...(o.pushgatewayUrl ? { pushgateway_url: o.pushgatewayUrl } : {}),
      ...(o.prometheusUrl ? { prometheus_url: o.prometheusUrl } : {}),
    };
    return { experiment, where, hosts: o.hosts, endpoints, deployed: [...experiment.services], metadata: {}, ...(o.stateDir ? { stateDir: o.stateDir } : {}) };
  }
  const dir = stateDirOf(experiment.name);
  const st = requireReady(experiment.name, dir);
  // Tools are installed through the experiment's inventory: write it from the state when missing.
  if (!existsSync(inventoryPath(dir))) writeAnsibleFiles(experiment.name, dir, st.platform);
  const kh = typeof st.platform.data.knownHosts === 'string' ? st.platform.data.knownHosts : undefined;
  return { experiment, where, hosts: workHosts(st), endpoints: st.endpoints ?? {}, deployed: st.services, metadata: readMetadata(dir), stateDir: dir, ...(kh ? { knownHosts: kh } : {}) };
}

export class AppRunContext<S, A> implements RunContext<S, A> {
  readonly createdAt = Date.now();
  readonly experiment: Experiment;
  readonly config: S;
  readonly hosts: WorkHost[];
  readonly endpoints: Record<string, string>;
  readonly deployed: readonly string[];
  readonly executor: Executor;
  readonly signal?: AbortSignal;
  readonly stateDir?: string;
  private readonly ownExecutor: boolean;
  private readonly metadata: Record<string, unknown>;
  private readonly whereOf: (path: string) => string;
  private readonly started: LiveRun[] = [];

  constructor(
    private readonly workload: Workload<S, A>,
    readonly args: A,
    private readonly o: ContextOptions,
  ) {
    const w = locate(o);
    this.experiment = w.experiment;
    this.whereOf = w.where;
    const key = workload.section?.key ?? workload.reads;
    this.config = (key ? (w.experiment as unknown as Record<string, unknown>)[key] : undefined) as S;
    this.hosts = w.hosts;
    this.endpoints = w.endpoints;
    this.deployed = w.deployed;
    this.metadata = w.metadata;
    if (w.stateDir) this.stateDir = w.stateDir;
    if (o.signal) this.signal = o.signal;
    this.ownExecutor = !o.executor;
    this.executor = o.executor ?? (w.experiment.runtime === 'k3s' && w.stateDir && !o.hosts ? k8sExecutorFor(w.stateDir, w.experiment.name) : new HostExecutor({ ...(w.stateDir ? { stateDir: w.stateDir } : {}), ...(w.knownHosts ? { knownHostsFile: w.knownHosts } : {}) }));
  }

  progress(line: string): void {
    this.o.progress?.(line);
  }

  where(path: string): string {
    return this.whereOf(path);
  }

  newRunId(): string {
    return newRunId();
  }

  startRun(parameters: Record<string, unknown>, opts: { label?: string; id?: string } = {}): RunHandle {
    const run = new LiveRun(this.experiment.name, opts.label ?? this.workload.name, opts.id ?? newRunId(), parameters, this.o.campaign);
    this.started.push(run);
    return run;
  }

  /** The runs this context started, in order (a campaign reads its run's record from here, whatever the workload returned or threw). */
  get runs(): readonly RunHandle[] {
    return this.started;
  }

  finishRun(run: RunHandle, error?: unknown): void {
    (run as LiveRun).finish(error, this.workload.csv, Boolean(this.signal?.aborted));
  }

  place(run: RunHandle, host: WorkHost, what: string): void {
    const p = (run.record.placement ??= []);
    const entry = p.find((x) => x.host === host.name);
    if (entry) entry.runs.push(what);
    else p.push({ host: host.name, address: host.address, runs: [what] });
  }

  hostFacts(hosts: WorkHost[]): Promise<Array<Record<string, unknown>>> {
    return hostFacts(this.executor, this.metadata, hosts, this.signal);
  }

  preflight(needs: ToolNeed[], place: (on: string) => WorkHost[], run?: RunHandle, opts: PreflightOptions = {}): Promise<void> {
    const n = (this.experiment as { net: { install_tools: 'missing' | 'always' | 'never'; uperf: { source?: string } } }).net;
    return preflight(this.executor, needs, place, { mode: n.install_tools, ...(n.uperf.source ? { uperfSource: n.uperf.source } : {}), ...opts, ...(run ? { run } : {}), ...(this.signal ? { signal: this.signal } : {}), progress: (l) => this.progress(l) });
  }

  withNetem<T>(run: RunHandle, f: () => Promise<T>): Promise<T> {
    return withNetem(this.executor, this.hosts, this.experiment.net, run, this.signal, f);
  }

  withPcp<T>(run: RunHandle, hosts: WorkHost[], maxSeconds: number, f: () => Promise<T>): Promise<T> {
    return withPcp(this.executor, this.experiment.net, run, hosts, maxSeconds, { ...(this.signal ? { signal: this.signal } : {}), progress: (l) => this.progress(l) }, f);
  }

  broker(kind: 'kafka' | 'redpanda'): BrokerAccess | undefined {
    return brokerAccess(this, kind);
  }

  scrape(kind: 'loadgen', groups: Array<{ targets: string[]; labels: Record<string, string> }>): Promise<string | null> {
    return publishScrapeTargets(this, kind, groups);
  }

  energy(window: RunWindow, opts: { baseline?: boolean } = {}): Promise<EnergyAccount> {
    return measureEnergy(this.energyWhere(), window, opts);
  }

  async closeWindow(run: RunHandle, window: RunWindow, opts: { hostCpuSeconds?: Record<string, number> } = {}): Promise<EnergyAccount | undefined> {
    const rec = run.record;
    rec.window = window;
    run.save();
    const url = this.endpoints.pushgateway_url;
    if (url) {
      const marker = new RunWindowMarker({ runId: run.id, experiment: this.experiment.name, kind: this.workload.name }, url);
      await marker.mark(window).catch((e: unknown) => marker.pushErrors.push(errorMessage(e)));
      rec.windowPush = { url, job: RUN_JOB, ...(marker.pushErrors.length ? { error: marker.pushErrors.join('; ') } : {}) };
      if (marker.pushErrors.length) this.progress(`run window not pushed: ${marker.pushErrors.join('; ')} (the record keeps it)`);
    }
    let account: EnergyAccount | undefined;
    if (!this.endpoints.prometheus_url) rec.energy = unavailableEnergy('no Prometheus in this experiment (energy needs the monitoring services)');
    else if (window.end - window.start < 1) rec.energy = unavailableEnergy(`window of ${(window.end - window.start).toFixed(3)} s is shorter than 1 s`);
    else {
      this.progress('energy: waiting for Prometheus to scrape past the window');
      try {
        account = await measureEnergy(this.energyWhere(), window, opts.hostCpuSeconds ? { hostCpuSeconds: opts.hostCpuSeconds } : {});
        rec.energy = toEnergyFigure(account);
      } catch (e) {
        rec.energy = unavailableEnergy(errorMessage(e));
      }
    }
    run.save();
    return account;
  }

  private energyWhere(): EnergyWhere {
    return { experiment: this.experiment, endpoints: this.endpoints, hosts: this.hosts, ...(this.stateDir ? { stateDir: this.stateDir } : {}) };
  }

  async close(): Promise<void> {
    if (this.ownExecutor) await this.executor.close();
  }
}

/** A context for one command of a workload; close() it when done (its executor's connections). */
export function createContext<S, A>(workload: Workload<S, A>, args: A, o: ContextOptions): AppRunContext<S, A> {
  return new AppRunContext(workload, args, o);
}
