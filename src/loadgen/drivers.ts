/**
 * The driver table: one line per load driver. The app finds drivers here (no if/else over driver
 * names anywhere else); each module is loaded on first use. A driver's settings schema is in
 * plan.ts (`driverSchema`), its code in its own folder.
 */
import type { LoadDriver } from './driver.js';
import type { DriverName } from './plan.js';

export interface DriverEntry {
  description: string;
  create(): Promise<LoadDriver>;
}

export const DRIVERS: Record<DriverName, DriverEntry> = {
  native: {
    description: 'the native generator (@platformatic/kafka): open-loop, latency from the intended send time',
    create: async () => new (await import('./native/driver.js')).NativeDriver(),
  },
  'perf-test': {
    description: "Kafka's ProducerPerformance: closed-loop, latency from the actual send (coordinated omission)",
    create: async () => new (await import('./perftest/driver.js')).PerfTestDriver(),
  },
};
