import { RunError } from '../../core/errors.js';
import type { HostExec } from './exec.js';
import type { NetHost, NetResult, NetTool } from './types.js';

/** The parameters of one network measurement (from the experiment's `net` section and flags). */
export interface NetParams {
  tool: NetTool;
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
}

/** Where one measurement runs. */
export interface PairPlan {
  server: NetHost;
  client: NetHost;
  /** The address the client connects to (the server's address). */
  serverAddress: string;
  /** A directory on the client for files the run needs (profiles). */
  clientDir: string;
}

/**
 * A network tool: the same three steps for every tool (supported?, run, parse), the same result.
 * `serverCommand` is started in the background on the server host and stopped after the client;
 * `prepare` writes what the client needs (e.g. the uperf profile).
 */
export interface NetDriver {
  tool: NetTool;
  /** Programs that must exist on the server and client hosts. */
  binaries: { server: string[]; client: string[] };
  serverCommand(p: NetParams, plan: PairPlan): string;
  clientCommand(p: NetParams, plan: PairPlan): string;
  prepare?(exec: HostExec, p: NetParams, plan: PairPlan): Promise<void>;
  parse(stdout: string, p: NetParams, where: string): NetResult;
  /** How to install the tool where it is missing (shown in the error). */
  installHint: string;
}

/** supported?: every binary present on the hosts that need it, else one error naming host and program. */
export async function checkSupported(exec: HostExec, d: NetDriver, server: NetHost, client: NetHost, signal?: AbortSignal): Promise<void> {
  const need = new Map<NetHost, Set<string>>();
  for (const b of d.binaries.server) need.set(server, new Set([...(need.get(server) ?? []), b]));
  for (const b of d.binaries.client) need.set(client, new Set([...(need.get(client) ?? []), b]));
  const missing: string[] = [];
  await Promise.all(
    [...need].map(async ([h, bins]) => {
      const r = await exec.exec(h, [...bins].map((b) => `command -v ${b} >/dev/null || echo ${b}`).join('; '), { timeoutMs: 20_000, signal });
      for (const b of r.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) missing.push(`${b} on ${h.name}`);
    }),
  );
  if (missing.length) {
    throw new RunError('net.tool_missing', `${d.tool} is not installed: missing ${missing.join(', ')}`, { hint: d.installHint });
  }
}
