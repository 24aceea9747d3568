import type { WorkHost } from '../../../core/types.js';

/** A host as the network workloads use it: its inventory entry plus its own directory for files. */
export type NetHost = WorkHost;

export interface LatencyPercentiles {
  /** Microseconds. */
  p50: number;
  p90: number;
  p99: number;
  avg?: number;
  min?: number;
  max?: number;
  /** Number of observations behind the percentiles, when the tool says. */
  observations?: number;
}

/** One interval sample (per second or per reporting interval). */
export interface NetInterval {
  /** Seconds since the start of the test. */
  start: number;
  end: number;
  bitsPerSecond: number | null;
  opsPerSecond?: number | null;
}

/**
 * The one result shape every network driver returns. Fields a tool does not measure are null,
 * never zero, so a reader can tell "not measured" from "measured nothing".
 */
export interface NetResult {
  /** The tool's registry name (iperf3, wrk, ...). */
  tool: string;
  protocol: 'tcp' | 'udp' | string;
  /** Received throughput, bits per second. */
  throughputBitsPerSecond: number | null;
  /** Operations (transactions, messages, requests) per second. */
  throughputOpsPerSecond: number | null;
  latencyMicroseconds: LatencyPercentiles | null;
  /** TCP retransmits (sender side). */
  retransmits: number | null;
  /** UDP/datagram loss, percent. */
  lossPercent: number | null;
  /** CPU utilisation in percent of one host's capacity, as the tool reports it. */
  cpu: { localPercent: number | null; remotePercent: number | null } | null;
  /** Seconds the tool measured. */
  seconds: number | null;
  intervals: NetInterval[];
  /** Tool-specific extras (jitter, errors count, version...). */
  extra: Record<string, unknown>;
}

export function emptyResult(tool: string, protocol: string): NetResult {
  return {
    tool,
    protocol,
    throughputBitsPerSecond: null,
    throughputOpsPerSecond: null,
    latencyMicroseconds: null,
    retransmits: null,
    lossPercent: null,
    cpu: null,
    seconds: null,
    intervals: [],
    extra: {},
  };
}

/** Strip terminal colour codes and carriage returns (outputs captured through a TTY). */
export function cleanOutput(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
}
