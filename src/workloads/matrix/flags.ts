import type { FlagSpec } from '../contract.js';

/** The flags of `entrypoint net --matrix`: the matrix's own keys of the `net` section. */
export const MATRIX_FLAGS: readonly FlagSpec[] = [
  { name: 'tool', path: 'net.matrix.tool', kind: 'string', value: '<tool>', help: 'the latency tool' },
  { name: 'protocol', path: 'net.matrix.protocol', kind: 'string', value: '<p>', help: 'tcp | udp' },
  { name: 'duration', path: 'net.matrix.duration', kind: 'duration', value: '<d>', help: 'seconds per pair' },
  { name: 'length', path: 'net.matrix.message_size', kind: 'integer', value: '<bytes>', help: 'sockperf message size' },
  { name: 'network', path: 'net.matrix.network', kind: 'string', value: '<net>', help: 'runtime k3s: pod | host (which DaemonSet the matrix measures between)' },
];
