/** The figures of a test's fake load driver: nothing measured, `acked` messages counted as sent and acknowledged. */
import type { DriverFigures } from '../../src/loadgen/driver.js';

export function fakeDriverFigures(client: string, window: { start: number; end: number } = { start: 0, end: 0 }, acked = 0): DriverFigures {
  return {
    window,
    target: { messages: 0, rate: 0 },
    counts: { sent: acked, acked, failed: 0, unsent: 0, unacked: 0, bytesAcked: 0 },
    warmup: { sent: 0, acked: 0, failed: 0 },
    achieved: { msgPerSec: 0, mbPerSec: 0 },
    saturated: false,
    latencyMs: { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0, samples: 0, censored: 0 },
    latency: { loop: 'open', from: 'intended', source: 'histogram' },
    errors: [],
    client: { name: client, version: '0' },
  };
}
