/**
 * The workload contract. A workload declares, in its own `index.ts`: its name, the experiment
 * section it owns (key and schema), its command-line flags (each with the config key it sets; the
 * schema at that key gives the bounds and choices), the tools it needs on hosts, `run(ctx)`, and
 * its line in runs.csv. The CLI, the shell's overrides and `i --load …` read the flags from here;
 * src/experiment reads the section; src/app hands `run` a RunContext.
 *
 * The RunContext is implemented in src/app/context.ts: it loads the experiment and the state once,
 * checks the phase once, owns each run's id, folder and record (running → completed / failed /
 * aborted, also on a second Ctrl-C), the CSV line, netem, PCP, the tools preflight, placement and
 * the runtime's executor. Workloads only describe what they do.
 */
import type { z } from 'zod';
import type { ExperimentBase } from '../config/schema/base.js';
import type { Fail } from '../config/cross-checks.js';
import type { RunWindow, WorkHost } from '../core/types.js';
import type { RunRecord } from '../runs/record.js';
import type { Executor } from '../runtimes/executor.js';
import type { EnergyAccount } from '../metrics/energy/index.js';

/** How a flag's value is read before the section's schema validates it. */
export type FlagKind = 'number' | 'integer' | 'string' | 'duration' | 'boolean';

/** One command-line flag: `--<name> <value>` sets `path` in the experiment. */
export interface FlagSpec {
  /** As typed after `--` (also the shell's short key: `ingest({ load: 5000 })`). */
  name: string;
  /** The experiment key it sets, e.g. `ingest.load`. */
  path: string;
  kind: FlagKind;
  /** Placeholder in the help (`<msg/s>`). */
  value?: string;
  help: string;
}

/** Programs a run needs on some of its hosts; `on` is a placement label the workload defines (a role, `server`, ...). */
export interface ToolNeed {
  on: string;
  programs: string[];
}

export interface PreflightOptions {
  /** Also check (and install) Performance Co-Pilot on the placed hosts. */
  pcp?: boolean;
  /** The hosts `install_tools: always` installs on, in this order (default: the placed hosts, in placement order). */
  hosts?: WorkHost[];
  /** The error for programs still missing (default: "<tool> is not installed: missing <program> on <host>, ..."). */
  missing?: (missing: Array<{ program: string; host: string }>) => Error;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** What a run may do with the experiment's brokers. */
export interface BrokerAccess {
  kind: 'kafka' | 'redpanda';
  bootstrap: string[];
  /** `kafka 4.3.1`, `redpanda 24.3.1`. */
  version: string;
  /** The broker section's defaults for topics. */
  defaults: { replicationFactor: number; minInsyncReplicas: number };
  /** Kafka's client jars on the hosts (the perf-test driver), when Kafka is installed there. */
  clientLibs?: string;
  /** Settings worth recording with a run (e.g. Redpanda's write caching). */
  settings: Record<string, unknown>;
  /** Create a topic (an existing one with the same settings is fine); returns what the tool said. */
  createTopic(t: TopicSpec, signal?: AbortSignal): Promise<string>;
  deleteTopic(t: TopicSpec, signal?: AbortSignal): Promise<string>;
}

/** One run of a workload, as the context keeps it: its id, folder and record. */
export interface RunHandle {
  readonly id: string;
  /** results/<exp>/<run-id>/ */
  readonly dir: string;
  readonly record: RunRecord;
  /** Rewrite run.json now (atomically). */
  save(): void;
}

/** What a workload may ask of the run context. `S` is its own section, `A` its command's arguments. */
export interface RunContext<S = unknown, A = unknown> {
  /** The experiment's base sections (name, roles, runtime, services, monitoring, energy). */
  readonly experiment: ExperimentBase;
  /** When the context was made (epoch ms): a run's `prepare` phase counts from here. */
  readonly createdAt: number;
  /** The workload's own section, with every override applied. */
  readonly config: S;
  /** The command's arguments beyond the section (a racefile, a matrix mode, ...). */
  readonly args: A;
  readonly hosts: WorkHost[];
  /** What setup published: prometheus_url, pushgateway_url, kafka_bootstrap_servers, ... */
  readonly endpoints: Record<string, string>;
  /** The runtime's executor: every command, program and file on the hosts goes through it. */
  readonly executor: Executor;
  readonly signal?: AbortSignal;
  progress(line: string): void;
  /** Where a key's value came from, for messages: `exp.yaml: ingest.load` or `--load (ingest.load)`. */
  where(path: string): string;
  /** A run id, for a run whose inputs need it before it starts (a racefile template). */
  newRunId(): string;
  /**
   * A new run: id, folder and record (written `running` with these parameters). `label` names it in
   * the record (default: the workload); `id` comes from newRunId().
   */
  startRun(parameters: Record<string, unknown>, opts?: { label?: string; id?: string }): RunHandle;
  /** Ends a run: completed, or failed / aborted from `error`; the record saved, the CSV line written. */
  finishRun(run: RunHandle, error?: unknown): void;
  /** Record which host ran what (placement). */
  place(run: RunHandle, host: WorkHost, what: string): void;
  /** Facts about hosts for the record (setup's metadata, else a quick probe). */
  hostFacts(hosts: WorkHost[]): Promise<Array<Record<string, unknown>>>;
  /**
   * The tools preflight: checks every need's programs on the hosts `place(on)` names; per
   * `net.install_tools`, installs what is missing through the executor and checks again. A program
   * still missing is one error naming program and host.
   */
  preflight(needs: ToolNeed[], place: (on: string) => WorkHost[], run?: RunHandle, opts?: PreflightOptions): Promise<void>;
  /** The experiment's network emulation around `f` (net.netem with netem_apply: run), removed whatever happens. */
  withNetem<T>(run: RunHandle, f: () => Promise<T>): Promise<T>;
  /** PCP recording on `hosts` around `f` when the section asks for it; archives and summary into the run. */
  withPcp<T>(run: RunHandle, hosts: WorkHost[], maxSeconds: number, f: () => Promise<T>): Promise<T>;
  /** The services `setup` deployed. */
  readonly deployed: readonly string[];
  /** The deployed brokers of a kind (bootstrap servers, defaults, topics), undefined when not deployed. */
  broker(kind: 'kafka' | 'redpanda'): BrokerAccess | undefined;
  /**
   * Publish scrape targets for a kind of run process (`loadgen`: Prometheus' file_sd job of the
   * generators); an empty list withdraws them. Returns Prometheus' host, null when there is none.
   */
  scrape(kind: 'loadgen', groups: Array<{ targets: string[]; labels: Record<string, string> }>): Promise<string | null>;
  /**
   * The energy account of a window from the experiment's sources (the platform's among them), once
   * Prometheus has scraped past its end. Fails (energy.no_prometheus) without a Prometheus.
   */
  energy(window: RunWindow, opts?: { baseline?: boolean }): Promise<EnergyAccount>;
  /**
   * The run's measurement window is known: recorded (run.json `window`), pushed to the Pushgateway
   * (job `greenrace_run`: start/end gauges labelled run_id, experiment, kind; run.json `windowPush`)
   * and its energy accounted into run.json `energy` (per machine: joules, source, kind, coverage;
   * idle energy from the stored baseline, dynamic energy). Failures of the push or of the account
   * are recorded, never thrown. Returns the account, undefined without one.
   */
  closeWindow(run: RunHandle, window: RunWindow, opts?: { hostCpuSeconds?: Record<string, number> }): Promise<EnergyAccount | undefined>;
}

/** A line of runs.csv: its columns, filled from the run's record. */
export interface CsvSpec {
  /** `completed`: only completed runs get a line (net, race); `always`: every finished run (ingest). */
  when: 'completed' | 'always';
  row(record: RunRecord): Record<string, unknown>;
}

/**
 * What a workload declares to be searched and swept (`entrypoint search` / `sweep`): the config key
 * that sets its load, the load's unit, and which SLO checks its run records can answer.
 */
export interface CampaignSpec {
  /** The experiment key of the target load, e.g. `ingest.load`. */
  loadPath: string;
  /** Unit of the load and of the achieved throughput (`msg/s`). */
  unit: string;
  /** Its records carry the backlog at the end (messages unsent or unacknowledged). */
  reportsBacklog: boolean;
  /** Its records carry a p99 latency. */
  reportsP99: boolean;
  /** A consumer runs beside the producers (a lag trend can be checked). */
  hasConsumer: boolean;
  /**
   * The experiment key of a ramp inside one run (`ingest.ramp`: a list of `{load, duration}`
   * steps), when the workload can raise its rate in steps; its records then carry `results.steps`
   * (`target`, `achieved_rate`, `backlog_grew` per step).
   */
  rampPath?: string;
}

export interface Workload<S = unknown, A = unknown, R = unknown> {
  name: string;
  description: string;
  /** The experiment section it owns (key and schema); workloads that read another's section name it in `reads`. */
  section?: { key: string; schema: z.ZodType };
  /** The section its `config` is (its own, or one it shares with another workload, e.g. race reads `net`). */
  reads?: string;
  flags: readonly FlagSpec[];
  /** The programs it needs, per placement label, for a configuration and arguments. */
  tools(config: S, args: A): ToolNeed[];
  /** The experiment's cross-checks for its section. */
  crossCheck?(e: ExperimentBase & Record<string, unknown>, fail: Fail): void;
  run(ctx: RunContext<S, A>): Promise<R>;
  /** Its line in results/<exp>/runs.csv; absent for workloads that write their own tables only (the matrix). */
  csv?: CsvSpec;
  /** Present when it can be searched and swept: its load knob and what its records report. */
  campaign?: CampaignSpec;
}
