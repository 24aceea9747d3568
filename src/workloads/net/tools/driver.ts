import { RunError } from '../../../core/errors.js';
import type { WorkHost } from '../../../core/types.js';
import type { Executor } from '../../../runtimes/executor.js';
import type { NetResult } from './types.js';

/** The parameters of one network measurement (from the experiment's `net` section and flags). */
export interface NetParams {
  tool: string;
  protocol: 'tcp' | 'udp';
  /** Parallel streams (iperf3 -P, uperf nthreads, netperf instances). */
  streams: number;
  /** Seconds. */
  duration: number;
  /** Bytes per write/message; undefined = the tool's default. */
  messageSize?: number;
  /** iperf3 -b (e.g. "1G"). */
  bitrate?: string;
  reverse: boolean;
  /** Server port (the tool's data/control port). */
  port: number;
  /** netperf test: TCP_RR, TCP_STREAM, ... */
  test?: string;
  /** Request/response sizes of a request/response test, bytes (netperf `-r req,resp`; the seed's 32,1024). */
  requestSize?: number;
  responseSize?: number;
  /** iperf3 -O: seconds at the start left out of the results (TCP slow start). */
  omit?: number;
}

/** Where one measurement runs. */
export interface PairPlan {
  server: WorkHost;
  client: WorkHost;
  /** The address the client connects to (the server's address). */
  serverAddress: string;
  /** A directory on the client for files the run needs (profiles). */
  clientDir: string;
}

/**
 * How a tool measures between a client and a server: the same steps for every tool (server
 * started in the background, optional `prepare` on the client, client run, output parsed into the
 * one result shape).
 */
export interface NetDriver {
  serverCommand(p: NetParams, plan: PairPlan): string;
  clientCommand(p: NetParams, plan: PairPlan): string;
  prepare?(ex: Executor, p: NetParams, plan: PairPlan): Promise<void>;
  parse(stdout: string, p: NetParams, where: string): NetResult;
}

/** How a tool gets onto a host: Debian packages (the net_tools role), an installer of net-tools.yml, or by hand. */
export type ToolInstall = { packages: string[] } | { installer: 'uperf' } | { manual: true };

/** One host program greenrace knows: the only place its names, packages, port and commands are written. */
export interface NetToolDef {
  name: string;
  summary: string;
  /** Programs the server-side and client-side hosts need. */
  programs: { server: string[]; client: string[] };
  install: ToolInstall;
  /** Shown when it is missing and cannot be installed. */
  installHint: string;
  /** The server's default port. */
  defaultPort?: number;
  /** Measures between a client and a server (usable by `net`). */
  driver?: NetDriver;
  /** Its measurement gives latency percentiles (usable by the latency matrix). */
  latency?: boolean;
  /**
   * What its latency percentiles time: a whole request/response round trip (netperf TCP_RR), or
   * half of one (sockperf ping-pong). The latency matrix reports round trips (half ones × 2).
   */
  latencyBasis?: 'round-trip' | 'half-round-trip';
  /**
   * On Kubernetes (runtime k3s): the server as a pod runs it (argv; every address, stays up until
   * the pod is deleted), or why the tool cannot run in a pod here.
   */
  pod?: { server: (p: NetParams) => string[] } | { unavailable: string };
  /** Reads the tool's own report (racefile collectors' `parse`). */
  parse?: (text: string, where: string) => NetResult;
}

/** A host's folder for network-run files (`<dataDir>/<sub>`). */
export const netDir = (host: WorkHost, sub = 'net'): string => `${host.dataDir.replace(/\/+$/, '')}/${sub}`;

/** Programs (of those given) missing on a host: one `command -v` round trip. */
export async function missingPrograms(ex: Executor, host: WorkHost, programs: string[], signal?: AbortSignal): Promise<string[]> {
  if (!programs.length) return [];
  const r = await ex.run(host, [...new Set(programs)].map((b) => `command -v ${b} >/dev/null || echo ${b}`).join('; '), { timeoutMs: 20_000, ...(signal ? { signal } : {}) });
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** supported?: every program present on the hosts that need it, else one error naming host and program. */
export async function checkSupported(ex: Executor, t: NetToolDef, server: WorkHost, client: WorkHost, signal?: AbortSignal): Promise<void> {
  const need = new Map<WorkHost, string[]>();
  need.set(server, [...t.programs.server]);
  need.set(client, [...(need.get(client) ?? []), ...t.programs.client]);
  const missing: string[] = [];
  await Promise.all([...need].map(async ([h, progs]) => missing.push(...(await missingPrograms(ex, h, progs, signal)).map((b) => `${b} on ${h.name}`))));
  if (missing.length) throw new RunError('net.tool_missing', `${t.name} is not installed: missing ${missing.join(', ')}`, { hint: t.installHint });
}
