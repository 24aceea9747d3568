import { shJoin } from '../../../../core/shell.js';
import type { NetToolDef } from '../driver.js';
import { parseIperf3 } from './parse.js';

/** iperf3: `-s -1` server bound to its address, `-J` client. */
export const iperf3: NetToolDef = {
  name: 'iperf3',
  summary: 'TCP/UDP throughput (JSON report)',
  programs: { server: ['iperf3'], client: ['iperf3'] },
  install: { packages: ['iperf3'] },
  installHint: 'install the Debian package iperf3 on the hosts',
  defaultPort: 5201,
  driver: {
    serverCommand: (p, plan) => shJoin(['iperf3', '-s', '-1', '-B', plan.serverAddress, '-p', String(p.port)]),
    clientCommand: (p, plan) => {
      const a = ['iperf3', '-c', plan.serverAddress, '-p', String(p.port), '-J', '-t', String(Math.max(1, Math.round(p.duration)))];
      if (p.protocol === 'udp') a.push('-u');
      if (p.streams > 1) a.push('-P', String(p.streams));
      if (p.messageSize !== undefined) a.push('-l', String(p.messageSize));
      if (p.bitrate !== undefined) a.push('-b', p.bitrate);
      else if (p.protocol === 'udp') a.push('-b', '0');
      if (p.reverse) a.push('-R');
      if (p.omit) a.push('-O', String(Math.round(p.omit)));
      return shJoin(a);
    },
    parse: (out, _p, where) => parseIperf3(out, where),
  },
  // Not one-off (-1) in a pod: the client's wait for the server connects first.
  pod: { server: (p) => ['iperf3', '-s', '-p', String(p.port)] },
  parse: parseIperf3,
};
