import type { FlagSpec } from '../contract.js';

/** The flags of `entrypoint net` (also the shell's `net({...})` keys). */
export const NET_FLAGS: readonly FlagSpec[] = [
  { name: 'tool', path: 'net.tool', kind: 'string', value: '<tool>', help: 'the tool measuring between the hosts' },
  { name: 'protocol', path: 'net.protocol', kind: 'string', value: '<p>', help: 'tcp | udp' },
  { name: 'streams', path: 'net.streams', kind: 'integer', value: '<n>', help: 'parallel streams / threads' },
  { name: 'duration', path: 'net.duration', kind: 'duration', value: '<d>', help: 'seconds or e.g. 30s' },
  { name: 'length', path: 'net.message_size', kind: 'integer', value: '<bytes>', help: 'message / buffer length' },
  { name: 'bitrate', path: 'net.bitrate', kind: 'string', value: '<rate>', help: 'iperf3 target bitrate, e.g. 1G' },
  { name: 'reverse', path: 'net.reverse', kind: 'boolean', help: 'server sends, client receives' },
  { name: 'omit', path: 'net.omit', kind: 'duration', value: '<d>', help: 'iperf3: seconds at the start left out of the results' },
  { name: 'network', path: 'net.network', kind: 'string', value: '<net>', help: 'runtime k3s: pod (through a Service) | host (node network)' },
  { name: 'pcp', path: 'net.pcp', kind: 'boolean', help: 'record PCP metrics (pmlogger) on server and client; summary in the run record' },
];
