import type { FlagSpec } from '../contract.js';

/** The flags of `entrypoint ingest`, `entrypoint i` and the shell's `ingest({...})` / `loadConfig({...})` short keys. */
export const INGEST_FLAGS: readonly FlagSpec[] = [
  { name: 'load', path: 'ingest.load', kind: 'number', value: '<msg/s>', help: 'target rate, messages per second, summed over all instances' },
  { name: 'message_size', path: 'ingest.message_size', kind: 'integer', value: '<bytes>', help: 'message payload size in bytes' },
  { name: 'instances', path: 'ingest.instances', kind: 'integer', value: '<n>', help: 'load generator instances, spread over the worker hosts' },
  { name: 'partitions', path: 'ingest.partitions', kind: 'integer', value: '<n>', help: 'partitions of the topic' },
  { name: 'duration', path: 'ingest.duration', kind: 'duration', value: '<d>', help: 'measured duration (e.g. 30, 30s, 5m)' },
  { name: 'warmup', path: 'ingest.warmup', kind: 'duration', value: '<d>', help: 'warm-up before the measurement, excluded from it' },
  { name: 'broker', path: 'ingest.broker', kind: 'string', value: '<broker>', help: 'broker the run targets (must be deployed)' },
  { name: 'driver', path: 'ingest.driver', kind: 'string', value: '<driver>', help: "native generator or Kafka's kafka-producer-perf-test" },
  { name: 'acks', path: 'ingest.acks', kind: 'string', value: '<acks>', help: 'producer acknowledgements' },
];
