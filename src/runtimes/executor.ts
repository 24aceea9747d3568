/**
 * The runtime seam. A workload asks its run context's executor to run commands on hosts, start
 * and stop background programs (servers, clients, generators), copy files both ways and install
 * the tools it needs; it never knows which runtime serves.
 *
 * Runtimes: `host` (src/runtimes/host/: Ansible plays for installs, the SSH stack for per-run work).
 * `k8s` (src/runtimes/k8s/) implements this same interface on the cluster of `runtime: k3s` (pods
 * instead of process groups, `kubectl exec`-style commands through the API, files through tar over exec).
 */
import type { WorkHost } from '../core/types.js';

export interface RunOptions {
  /** Kill the command (its whole process group) after this many milliseconds. */
  timeoutMs?: number;
  /** Cancels the command; the remote side is killed before the promise settles. */
  signal?: AbortSignal;
  /** Given to the command's stdin. */
  input?: string;
  /** Live output. */
  onData?: (host: string, stream: 'stdout' | 'stderr', chunk: string) => void;
}

export interface RunResult {
  /** Exit code; null when killed by a signal, cancelled or timed out. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** A background program to start: a server, a client started at a shared time, a load generator. */
export interface StartSpec {
  host: WorkHost;
  /** Names its pidfile and log (`<dir>/<name>.pid`, `<dir>/<name>.log`). */
  name: string;
  /** A shell command line. */
  command: string;
  /** Folder of the pidfile and log on the host (default: `<dataDir>/net`). */
  dir?: string;
  /** Ready once this TCP or UDP port listens; without it, ready when still alive after a moment. */
  port?: number;
  /** How long to wait for readiness (default 10 s). */
  waitSeconds?: number;
  /**
   * A file the command reads, written in the same round trip just before it starts (its folder
   * made, replaced atomically, mode 0600 unless given): one SSH round trip instead of two.
   */
  file?: { path: string; content: string; mode?: string };
  signal?: AbortSignal;
}

/** A started program: what `stop` needs, and where its log is. */
export interface Started {
  host: WorkHost;
  name: string;
  pidfile: string;
  logfile: string;
}

/** What a run needs installed, per the tool registry: Debian packages and the installers net-tools.yml knows. */
export interface ToolNeeds {
  packages: string[];
  /** The program each package provides (checked on PATH first), from the tool registry. */
  programs?: Record<string, string>;
  /** Build uperf (from `uperfSource` when given). */
  uperf?: boolean;
  uperfSource?: string;
  /** Performance Co-Pilot. */
  pcp?: boolean;
}

export interface InstallReport {
  /** How it was installed (the host runtime: the playbook). */
  via: string;
  hosts: string[];
  changed: number;
  log?: string;
}

export interface Executor {
  readonly runtime: string;
  /** Run a command to completion. Throws (RunError) only when the host cannot be reached at all. */
  run(host: WorkHost, command: string, opts?: RunOptions): Promise<RunResult>;
  /** Start a background program in its own process group; fails with its log's last lines when it does not come up. */
  start(spec: StartSpec): Promise<Started>;
  /** Stop programs (TERM to the group, KILL after `graceSeconds`, default 3); without `what`, everything this executor started. */
  stop(what?: Started | Started[], opts?: { graceSeconds?: number }): Promise<void>;
  /** Wait until the programs have exited; false when `timeoutMs` passed first. */
  wait(what: Started[], opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<boolean>;
  /** Copy a file from a host; throws RunError naming host and path when it cannot. */
  fetch(host: WorkHost, remotePath: string, localPath: string, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /** Write a file on a host (folder created, replaced atomically). */
  put(host: WorkHost, path: string, content: string, opts?: { mode?: string }): Promise<void>;
  /** Whether `installTools` can work here (the host runtime: hosts from `setup`, whose inventory Ansible reads). */
  readonly canInstall: boolean;
  installTools(hosts: WorkHost[], needs: ToolNeeds, opts?: { progress?: (line: string) => void; signal?: AbortSignal }): Promise<InstallReport>;
  close(): Promise<void>;
}
