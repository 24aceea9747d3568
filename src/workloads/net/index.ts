import type { Workload } from '../contract.js';
import { NET_FLAGS } from './flags.js';
import { netCsvRow, netNeeds, runNet, type NetOutcome } from './run.js';
import { netSchema, type NetConfig } from './schema.js';


/** `net`: one measurement (iperf3, uperf, netperf, sockperf) between a server and a client chosen by role. */
export const net = {
  name: 'net',
  description: 'network benchmark between a server and a client host (iperf3, uperf, netperf, sockperf)',
  section: { key: 'net' as const, schema: netSchema },
  flags: NET_FLAGS,
  tools: (n: NetConfig) => netNeeds(n),
  run: runNet,
  csv: { when: 'completed', row: netCsvRow },
} satisfies Workload<NetConfig, unknown, NetOutcome>;
