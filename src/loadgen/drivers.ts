/**
 * The driver table: one line per load driver. The CLI and the app find drivers here (no if/else
 * over driver names anywhere else); each module is loaded on first use.
 */
import type { DriverName, GeneratorSettings } from './plan.js';
import type { LoadgenSummary } from './summary.js';

export interface RunIO {
  signal?: AbortSignal;
  /** Progress lines (one a second) and notable events. */
  log?: (line: string) => void;
  /** Called once the control/metrics server listens (tests use the port). */
  onListening?: (port: number) => void;
}

export interface DriverEntry {
  description: string;
  run(settings: GeneratorSettings, io: RunIO): Promise<LoadgenSummary>;
}

export const DRIVERS: Record<DriverName, DriverEntry> = {
  native: {
    description: 'the native open-loop generator (@platformatic/kafka): latency from the intended send time',
    run: async (s, io) => (await import('./native/generator.js')).runLoadgen(legacyOptions(s, io)),
  },
  'perf-test': {
    description: "Kafka's ProducerPerformance (closed-loop: latency from the actual send)",
    run: async (s, io) => {
      if (s.driver.name !== 'perf-test') throw new Error('unreachable');
      return (await import('./perftest/driver.js')).runPerfTest({ ...legacyOptions(s, io), kafkaLibs: s.driver.kafkaLibs, java: s.driver.java, heap: s.driver.heap, ...(s.rawLog ? { rawLog: s.rawLog } : {}) });
    },
  },
};

function legacyOptions(s: GeneratorSettings, io: RunIO) {
  return {
    bootstrap: s.bootstrap,
    topic: s.topic,
    rate: s.rate,
    size: s.messageSize,
    warmupS: s.warmupS,
    durationS: s.durationS,
    ...(s.startAt !== undefined ? { startAt: s.startAt } : { awaitStartMs: s.timeouts.startMs }),
    acks: s.acks,
    keys: s.keys,
    lingerMs: s.lingerMs,
    batchBytes: s.batchBytes,
    maxInflight: s.driver.name === 'native' ? s.driver.maxInflight : 5,
    requestTimeoutMs: s.timeouts.requestMs,
    stallTimeoutMs: s.timeouts.stallMs,
    connectTimeoutMs: s.timeouts.connectMs,
    maxLateMs: s.timeouts.maxLateMs,
    instance: s.instance,
    ...(s.control ? { metricsPort: s.control.port, metricsHost: s.control.address } : {}),
    ...(s.driver.name === 'native' && s.driver.clientId ? { clientId: s.driver.clientId } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.log ? { log: io.log } : {}),
    ...(io.onListening ? { onListening: io.onListening } : {}),
  };
}
