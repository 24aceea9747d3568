import { shJoin } from '../../../../core/shell.js';
import type { NetToolDef } from '../driver.js';
import { parseNetperf } from './parse.js';

/** The omni selectors asked for: percentiles, throughput and its units, retransmits. */
export const NETPERF_SELECTORS = 'P50_LATENCY,P90_LATENCY,P99_LATENCY,MEAN_LATENCY,THROUGHPUT,THROUGHPUT_UNITS,LOCAL_TRANSPORT_RETRANS,PROTOCOL';

/**
 * netperf: `netserver -D` as the server, `netperf -t TCP_RR|UDP_RR|TCP_STREAM|UDP_STREAM` with
 * keyval (`-k`) output. Debian's netperf 2.7.0 is in `non-free`: the net_tools role adds that
 * component for this one package.
 */
export const netperf: NetToolDef = {
  name: 'netperf',
  summary: 'request/response latency and throughput (omni tests)',
  programs: { server: ['netserver'], client: ['netperf'] },
  install: { packages: ['netperf'] },
  installHint: 'install the Debian package netperf (non-free) on the hosts; the net_tools role does it',
  defaultPort: 12865,
  latency: true,
  driver: {
    serverCommand: (p) => shJoin(['netserver', '-D', '-p', String(p.port)]),
    clientCommand: (p, plan) => {
      const test = p.test ?? (p.protocol === 'udp' ? 'UDP_RR' : 'TCP_RR');
      const size = String(p.messageSize ?? (test.endsWith('_RR') ? 1 : 16384));
      const sizeArgs = test.endsWith('_RR') || test.endsWith('_CRR') ? ['-r', `${size},${size}`] : ['-m', size];
      return shJoin(['netperf', '-H', plan.serverAddress, '-p', String(p.port), '-l', String(Math.max(1, Math.round(p.duration))), '-t', test, '-P', '0', '--', ...sizeArgs, '-k', NETPERF_SELECTORS]);
    },
    parse: (out, p, where) => parseNetperf(out, where, p.protocol),
  },
  parse: (t, w) => parseNetperf(t, w),
};
