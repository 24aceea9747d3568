/**
 * The flag form of `entrypoint loadgen` (direct use, bench/loadgen): each flag names the plan key it
 * sets. Flags carry no bounds and no defaults of their own: the values go into a one-generator plan
 * validated by src/loadgen/plan.ts (flags.ts), and a bad value is reported under its flag name.
 * This table is plain data (no schema loaded) so the CLI can register it at start.
 */
import { DRIVER_NAMES, LOADGEN_DEFAULTS, START_TOKEN_ENV } from './limits.js';

export interface LoadgenFlag {
  /** Commander spelling, e.g. `--rate <msg/s>`. */
  flag: string;
  /** Camel-case key commander gives the value under. */
  key: string;
  /** Plan path it sets (dotted; `generators[0]` is the one instance). */
  path: string;
  help: string;
  kind: 'number' | 'string' | 'duration' | 'list' | 'boolean';
  required?: boolean;
}

export const LOADGEN_FLAGS: readonly LoadgenFlag[] = [
  { flag: '--bootstrap <host:port,...>', key: 'bootstrap', path: 'shared.bootstrap', help: 'bootstrap servers', kind: 'list', required: true },
  { flag: '--topic <name>', key: 'topic', path: 'shared.topic', help: 'topic to produce to (must exist)', kind: 'string', required: true },
  { flag: '--rate <msg/s>', key: 'rate', path: 'generators[0].rate', help: 'target rate of this instance; 0 = as fast as possible', kind: 'number' },
  { flag: '--size <bytes>', key: 'size', path: 'shared.messageSize', help: 'message payload size', kind: 'number' },
  { flag: '--duration <s>', key: 'duration', path: 'shared.durationS', help: 'measured duration (after the warm-up), e.g. 30, 30s, 5m', kind: 'duration' },
  { flag: '--warmup <s>', key: 'warmup', path: 'shared.warmupS', help: 'warm-up before the measurement, excluded from it', kind: 'duration' },
  { flag: '--start-at <epoch-ms>', key: 'startAt', path: 'shared.startAt', help: 'shared start time (epoch milliseconds); default now + 1 s', kind: 'number' },
  { flag: '--acks <0|1|all>', key: 'acks', path: 'shared.acks', help: 'acknowledgements', kind: 'string' },
  { flag: '--keys <mode>', key: 'keys', path: 'shared.keys', help: 'message keys: none (sticky partition per batch), random, sequential', kind: 'string' },
  { flag: '--linger-ms <ms>', key: 'lingerMs', path: 'shared.lingerMs', help: 'wait up to this long to fill a batch', kind: 'number' },
  { flag: '--batch-bytes <bytes>', key: 'batchBytes', path: 'shared.batchBytes', help: "maximum payload bytes of one partition's batch (a request carries one batch per partition of its broker)", kind: 'number' },
  { flag: '--max-inflight <n>', key: 'maxInflight', path: 'shared.driver.maxInflight', help: 'native driver: produce requests in flight at once per broker connection', kind: 'number' },
  { flag: '--connections <n>', key: 'connections', path: 'shared.driver.connections', help: 'native driver: connections to each broker', kind: 'number' },
  { flag: '--request-timeout <ms>', key: 'requestTimeout', path: 'shared.timeouts.requestMs', help: 'timeout of one produce request', kind: 'number' },
  { flag: '--stall-timeout <ms>', key: 'stallTimeout', path: 'shared.timeouts.stallMs', help: 'fail when no acknowledgement arrived for this long', kind: 'number' },
  { flag: '--connect-timeout <ms>', key: 'connectTimeout', path: 'shared.timeouts.connectMs', help: 'bound on reaching the brokers before the start', kind: 'number' },
  {
    flag: '--await-start <ms>',
    key: 'awaitStart',
    path: 'shared.timeouts.startMs',
    help: `no fixed start: once connected, wait this long for POST /start?at=<epoch ms> on the control port (token from $${START_TOKEN_ENV})`,
    kind: 'number',
  },
  { flag: '--max-late <ms>', key: 'maxLate', path: 'shared.timeouts.maxLateMs', help: 'fail when ready later than this after the shared start', kind: 'number' },
  { flag: '--instance <id>', key: 'instance', path: 'generators[0].id', help: 'instance name in the summary and metric labels (default loadgen-<pid>)', kind: 'string' },
  { flag: '--metrics-port <n>', key: 'metricsPort', path: 'generators[0].control.port', help: 'serve /metrics (and the start trigger) on this port (0 = any free port)', kind: 'number' },
  { flag: '--metrics-host <addr>', key: 'metricsHost', path: 'generators[0].control.address', help: 'address the control/metrics server listens on (default 0.0.0.0)', kind: 'string' },
  { flag: '--driver <native|perf-test>', key: 'driver', path: 'shared.driver.name', help: "native generator, or Kafka's ProducerPerformance", kind: 'string' },
  { flag: '--kafka-libs <dir>', key: 'kafkaLibs', path: 'shared.driver.kafkaLibs', help: 'perf-test driver: directory of the Kafka jars (kafka-tools and its dependencies)', kind: 'string' },
  { flag: '--java <path>', key: 'java', path: 'shared.driver.java', help: 'perf-test driver: java binary', kind: 'string' },
  { flag: '--perf-log <file>', key: 'perfLog', path: 'generators[0].rawLog', help: "perf-test driver: keep the tool's raw output here", kind: 'string' },
];

/** The flag form's rate when `--rate` is not given (a plan always gives each instance its rate). */
export const FLAG_FORM_RATE = 1000;

export const DRIVER_ONLY: Record<string, string> = { maxInflight: 'native', connections: 'native', kafkaLibs: 'perf-test', java: 'perf-test', perfLog: 'perf-test' };

/** Default shown in `--help`: the plan schema's (src/loadgen/limits.ts), never restated. */
export function flagDefault(f: LoadgenFlag): string | undefined {
  if (f.required || f.key === 'awaitStart') return undefined;
  if (f.key === 'rate') return String(FLAG_FORM_RATE);
  if (f.key === 'driver') return DRIVER_NAMES[0];
  const key = f.path.split('.').at(-1)!;
  const v = (LOADGEN_DEFAULTS as Record<string, string | number>)[key];
  return v === undefined ? undefined : String(v);
}

