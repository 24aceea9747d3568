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
  installHint:
    'netperf 2.7.0 is in Debian\'s non-free component: with net.install_tools `missing` (the default) or `always` the run installs it (net-tools.yml enables non-free for netperf alone, pinned); by hand: `ansible/roles/net_tools/files/apt-non-free-only.sh netperf && apt-get install netperf` on each host (setup/install-system.sh does it on this machine)',
  defaultPort: 12865,
  latency: true,
  latencyBasis: 'round-trip',
  driver: {
    serverCommand: (p) => shJoin(['netserver', '-D', '-p', String(p.port)]),
    clientCommand: (p, plan) => {
      const test = p.test ?? (p.protocol === 'udp' ? 'UDP_RR' : 'TCP_RR');
      const rr = test.endsWith('_RR') || test.endsWith('_CRR');
      const size = p.messageSize ?? (rr ? 1 : 16384);
      // Request/response tests: `-r req,resp` (the seed's `-r 32,1024`); streams: `-m` bytes per send.
      const sizeArgs = rr ? ['-r', `${p.requestSize ?? size},${p.responseSize ?? size}`] : ['-m', String(size)];
      return shJoin(['netperf', '-H', plan.serverAddress, '-p', String(p.port), '-l', String(Math.max(1, Math.round(p.duration))), '-t', test, '-P', '0', '--', ...sizeArgs, '-k', NETPERF_SELECTORS]);
    },
    parse: (out, p, where) => parseNetperf(out, where, p.protocol),
  },
  pod: { server: (p) => ['netserver', '-D', '-p', String(p.port)] },
  parse: (t, w) => parseNetperf(t, w),
};
