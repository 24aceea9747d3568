import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';
import { latencyFromHistogram, mergeSummaries, type LoadgenSummary } from '../../../src/loadgen/summary.js';

function summary(over: Partial<LoadgenSummary> & { lat?: number[] }): LoadgenSummary {
  const h = new LatencyHistogram();
  for (const v of over.lat ?? []) h.record(v);
  const { lat: _lat, ...rest } = over;
  return {
    schema: 'greenrace.loadgen/1',
    driver: 'native',
    instance: 'i',
    host: 'h',
    status: 'completed',
    config: { topic: 't', bootstrap: ['b:9092'], rate: 100, messageSize: 1000, acks: 'all', keys: 'none', lingerMs: 5, batchBytes: 65536, warmupS: 0, durationS: 10, startAt: 0 },
    window: { start: 0, end: 10_000 },
    target: { messages: 1000, rate: 100 },
    counts: { sent: 1000, acked: 1000, failed: 0, unsent: 0, bytesAcked: 1_000_000 },
    warmup: { sent: 0, acked: 0, failed: 0 },
    achieved: { msgPerSec: 100, mbPerSec: 0.095 },
    latencyMs: latencyFromHistogram(h),
    histogram: h.toJSON(),
    latencySource: 'histogram',
    cpu: { userS: 1, systemS: 0.5 },
    errors: [],
    client: { name: 'x', version: '1' },
    ...rest,
  };
}

describe('mergeSummaries', () => {
  it('adds counts and rates of instances that ran side by side', () => {
    const m = mergeSummaries([
      summary({ instance: 'a', lat: [1000, 2000] }),
      summary({ instance: 'b', counts: { sent: 990, acked: 980, failed: 10, unsent: 10, bytesAcked: 980_000 }, lat: [3000], errors: [{ message: 'timeout', count: 10 }] }),
    ]);
    expect(m.instances).toBe(2);
    expect(m.target).toEqual({ messages: 2000, rate: 200 });
    expect(m.counts).toEqual({ sent: 1990, acked: 1980, failed: 10, unsent: 10, bytesAcked: 1_980_000 });
    expect(m.achieved.msgPerSec).toBeCloseTo(198, 6);
    expect(m.achieved.mbPerSec).toBeCloseTo(1_980_000 / 1048576 / 10, 6);
    expect(m.errors).toEqual([{ message: 'timeout', count: 10 }]);
    expect(m.cpu).toEqual({ userS: 2, systemS: 1 });
    expect(m.statuses).toEqual({ completed: 2 });
  });

  it('merges latency exactly through the histograms', () => {
    const a = Array.from({ length: 990 }, () => 1000);
    const b = Array.from({ length: 10 }, () => 500_000);
    const m = mergeSummaries([summary({ lat: a }), summary({ lat: b })]);
    expect(m.latencyMerge).toBe('histogram');
    expect(m.latencyMs.p50).toBeCloseTo(1, 1);
    expect(m.latencyMs.p999).toBeGreaterThan(495);
    expect(m.latencyMs.max).toBe(500);
    expect(m.latencyMs.samples).toBe(1000);
  });

  it('without histograms (perf-test), takes the worst instance per percentile and says so', () => {
    const p = (p99: number): LoadgenSummary => {
      const s = summary({ driver: 'perf-test', latencySource: 'perf-test' });
      delete s.histogram;
      s.latencyMs = { p50: 2, p95: 5, p99, p999: p99 * 2, max: p99 * 3, mean: 3, samples: 1000 };
      return s;
    };
    const m = mergeSummaries([p(10), p(40)]);
    expect(m.latencyMerge).toBe('max-of-instances');
    expect(m.latencyMs.p99).toBe(40);
    expect(m.latencyMs.max).toBe(120);
    expect(m.driver).toBe('perf-test');
  });

  it('the window spans every instance and a partial (aborted) instance counts what it measured', () => {
    const m = mergeSummaries([
      summary({ window: { start: 1000, end: 11_000 } }),
      summary({ status: 'aborted', window: { start: 1000, end: 6000 }, counts: { sent: 500, acked: 500, failed: 0, unsent: 0, bytesAcked: 500_000 } }),
    ]);
    expect(m.window).toEqual({ start: 1000, end: 11_000 });
    expect(m.counts.acked).toBe(1500);
    expect(m.statuses).toEqual({ completed: 1, aborted: 1 });
  });

  it('refuses an empty list', () => {
    expect(() => mergeSummaries([])).toThrow();
  });
});
