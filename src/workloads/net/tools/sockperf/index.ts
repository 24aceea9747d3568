import { shJoin } from '../../../../core/shell.js';
import type { NetParams, NetToolDef } from '../driver.js';
import { parseSockperf } from './parse.js';

const proto = (p: NetParams): string[] => (p.protocol === 'tcp' ? ['--tcp'] : []);

/** sockperf: request/response latency (`ping-pong`), half round trips in µs with percentiles. */
export const sockperf: NetToolDef = {
  name: 'sockperf',
  summary: 'request/response latency (ping-pong, half round trips)',
  programs: { server: ['sockperf'], client: ['sockperf'] },
  install: { packages: ['sockperf'] },
  installHint: 'install the Debian package sockperf on the hosts',
  defaultPort: 11111,
  latency: true,
  // Its percentiles are half round trips (sockperf divides each ping-pong's time by 2).
  latencyBasis: 'half-round-trip',
  pod: { server: (p) => ['sockperf', 'server', '-p', String(p.port), ...proto(p)] },
  driver: {
    serverCommand: (p, plan) => shJoin(['sockperf', 'server', '-i', plan.serverAddress, '-p', String(p.port), ...proto(p)]),
    clientCommand: (p, plan) =>
      shJoin([
        'sockperf', 'ping-pong', '-i', plan.serverAddress, '-p', String(p.port), ...proto(p),
        '-t', String(Math.max(1, Math.round(p.duration))),
        ...(p.messageSize !== undefined ? ['-m', String(Math.max(14, p.messageSize))] : []),
      ]),
    parse: (out, _p, where) => parseSockperf(out, where),
  },
  parse: parseSockperf,
};
