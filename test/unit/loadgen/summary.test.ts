import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';
import { describeLatency, latencyFromHistogram, LOADGEN_SUMMARY_SCHEMA, mergeSummaries, summaryLine, type LoadgenSummary } from '../../../src/loadgen/summary.js';

function summary(over: Partial<LoadgenSummary> & { lat?: number[] }): LoadgenSummary {
  const h = new LatencyHistogram();
  for (const v of over.lat ?? []) h.record(v);
  const { lat: _lat, ...rest } = over;
  return {
    schema: LOADGEN_SUMMARY_SCHEMA,
    driver: 'native',
    instance: 'i',
    host: 'h',
    status: 'completed',
    config: { topic: 't', bootstrap: ['b:9092'], rate: 100, messageSize: 1000, acks: 'all', keys: 'none', lingerMs: 5, batchBytes: 65536, warmupS: 0, durationS: 10, startAt: 0 },
    window: { start: 0, end: 10_000 },
    target: { messages: 1000, rate: 100 },
    counts: { sent: 1000, acked: 1000, failed: 0, unsent: 0, unacked: 0, bytesAcked: 1_000_000 },
    saturated: false,
    backlog: { graceMs: 250, overdue: 0, senderLagMs: 0 },
    warmup: { sent: 0, acked: 0, failed: 0 },
    achieved: { msgPerSec: 100, mbPerSec: 0.095 },
    latencyMs: latencyFromHistogram(h),
    histogram: h.toJSON(),
    latency: { loop: 'open', from: 'intended', source: 'histogram' },
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
      summary({ instance: 'b', counts: { sent: 990, acked: 980, failed: 10, unsent: 10, unacked: 0, bytesAcked: 980_000 }, lat: [3000], errors: [{ message: 'timeout', count: 10 }] }),
    ]);
    expect(m.instances).toBe(2);
    expect(m.target).toEqual({ messages: 2000, rate: 200 });
    expect(m.counts).toEqual({ sent: 1990, acked: 1980, failed: 10, unsent: 10, unacked: 0, bytesAcked: 1_980_000 });
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
    expect(m.latencyMs.max).toBeCloseTo(500.223, 3); // 500 ms to the histogram's precision (the top of its bucket)
    expect(m.latencyMs.samples).toBe(1000);
  });

  it('without histograms (perf-test), takes the worst instance per percentile and says so', () => {
    const p = (p99: number): LoadgenSummary => {
      const s = summary({ driver: 'perf-test', latency: { loop: 'closed', from: 'send', source: 'perf-test' } });
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
      summary({ status: 'aborted', window: { start: 1000, end: 6000 }, counts: { sent: 500, acked: 500, failed: 0, unsent: 0, unacked: 0, bytesAcked: 500_000 } }),
    ]);
    expect(m.window).toEqual({ start: 1000, end: 11_000 });
    expect(m.counts.acked).toBe(1500);
    expect(m.statuses).toEqual({ completed: 1, aborted: 1 });
  });

  it('refuses an empty list with a stable code', () => {
    expect(() => mergeSummaries([])).toThrow(expect.objectContaining({ code: 'loadgen.no_summaries' }));
  });

  it('a saturated instance makes the run saturated and its censored backlog stays in the merged percentiles', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 900; i++) h.record(2000);
    h.recordCensoredRamp(3_000_000, 10_000, 100); // 100 never sent: 3 s down to 2.01 s
    const sat = summary({ instance: 'b', saturated: true, backlog: { graceMs: 250, overdue: 75, senderLagMs: 1000 }, counts: { sent: 900, acked: 900, failed: 0, unsent: 100, unacked: 0, bytesAcked: 900_000 } });
    sat.histogram = h.toJSON();
    sat.latencyMs = latencyFromHistogram(h);
    const m = mergeSummaries([summary({ instance: 'a', lat: Array(1000).fill(2000) }), sat]);
    expect(m.saturated).toBe(true);
    expect(m.counts.unsent).toBe(100);
    expect(m.backlog).toEqual({ graceMs: 250, overdue: 75, senderLagMs: 1000 });
    expect(m.latencyMs).toMatchObject({ samples: 2000, censored: 100 });
    expect(m.latencyMs.p99).toBeGreaterThan(2000); // the top 1 % is the backlog (≥ 2 s), not the 2 ms of the acked
    expect(m.latency).toEqual({ loop: 'open', from: 'intended' });
    expect(mergeSummaries([summary({}), summary({ latency: { loop: 'closed', from: 'send', source: 'perf-test' } })]).latency).toBe('mixed');
  });
});

describe('how latency is labelled wherever it is printed', () => {
  it('open-loop, closed-loop, and a backlog that makes every percentile a lower bound', () => {
    const ok = summary({ lat: [1000, 2000, 3000] });
    expect(summaryLine(ok)).toMatch(/p99 3(\.\d+)? .*\(open-loop, from the intended send time\)$/);
    expect(summaryLine(ok)).not.toMatch(/≥/);
    const closed = summary({ driver: 'perf-test', latency: { loop: 'closed', from: 'send', source: 'perf-test' } });
    expect(describeLatency(closed).label).toMatch(/^closed-loop, from the actual send \(coordinated omission/);
    const h = new LatencyHistogram();
    h.recordCensored(5_000_000, 10);
    const sat = summary({ saturated: true, counts: { sent: 0, acked: 0, failed: 0, unsent: 10, unacked: 0, bytesAcked: 0 } });
    sat.latencyMs = latencyFromHistogram(h);
    expect(summaryLine(sat)).toMatch(/p50 ≥ 500[01](\.\d+)? p99 ≥ 500[01](\.\d+)? .*SATURATED: 10 unsent, 0 unacked, counted at their latency when the run ended \(lower bounds\)/);
    // The pipeline's tail (unsent, but due in the last moments): not saturated, the percentiles still lower bounds.
    const tail = summary({ counts: { sent: 990, acked: 990, failed: 0, unsent: 10, unacked: 0, bytesAcked: 0 } });
    tail.latencyMs = latencyFromHistogram(h);
    expect(summaryLine(tail)).toMatch(/p99 ≥ .*10 messages due in the last moments of the window were still queued at its end \(no backlog\)/);
    expect(summaryLine(tail)).not.toMatch(/SATURATED/);
    // A closed-loop driver with records left over: flagged, and said to be outside the figures.
    const pt = { ...closed, saturated: true, counts: { ...closed.counts, unsent: 7 } };
    expect(describeLatency(pt)).toEqual({ bound: '≥ ', label: expect.stringMatching(/SATURATED: the sender fell behind its target rate \(7 unsent\); the wait is not in these figures$/) });
  });
});

describe('percentiles a driver could not give', () => {
  it('stay null through the merge and print as —, never as 0', () => {
    const cut = summary({ driver: 'perf-test', latency: { loop: 'closed', from: 'send', source: 'perf-test' } });
    cut.latencyMs = { p50: null, p95: null, p99: null, p999: null, max: 3800, mean: 900, samples: 0, censored: 0 };
    delete cut.histogram;
    const m = mergeSummaries([cut]);
    expect(m.latencyMs).toMatchObject({ p99: null, max: 3800 });
    expect(summaryLine(cut)).toMatch(/latency ms p50 — p99 — p99\.9 — max 3800 /);
    const other = summary({ driver: 'perf-test', latency: { loop: 'closed', from: 'send', source: 'perf-test' } });
    delete other.histogram;
    other.latencyMs = { p50: 4, p95: 9, p99: 12, p999: 20, max: 25, mean: 5, samples: 100, censored: 0 };
    expect(mergeSummaries([cut, other]).latencyMs).toMatchObject({ p99: 12, max: 3800 });
  });
});
