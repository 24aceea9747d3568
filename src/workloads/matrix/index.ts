import type { Workload } from '../contract.js';
import { MATRIX_FLAGS } from './flags.js';
import type { NetConfig } from '../net/schema.js';
import type { RunRecord } from '../../runs/record.js';
import { matrixNeeds, runMatrix, type MatrixArgs } from './workload.js';


/** The latency matrix between hosts (CSV + Pushgateway), the seed's netperf-to-Prometheus workflow. */
export const matrix = {
  name: 'matrix',
  description: 'latency between every pair of hosts (or a ring), CSV and Pushgateway gauges',
  reads: 'net',
  flags: MATRIX_FLAGS,
  tools: (n: NetConfig) => matrixNeeds(n),
  run: runMatrix,
} satisfies Workload<NetConfig, MatrixArgs, RunRecord[]>;
