/**
 * The perf-test driver's summary figures from recorded real outputs of ProducerPerformance
 * (test/fixtures/ingest): closed-loop latency said so, failures counted from the exceptions the
 * tool prints, and records neither acknowledged nor failed counted as unsent.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { perfTestArgs, perfTestFigures, type TimedWindow } from '../../../../src/loadgen/perftest/driver.js';
import { PerfTestParser } from '../../../../src/loadgen/perftest/parse.js';
import { Schedule } from '../../../../src/loadgen/schedule.js';
import { describeLatency } from '../../../../src/loadgen/summary.js';

const fx = (f: string): string => readFileSync(new URL(`../../../fixtures/ingest/${f}`, import.meta.url), 'utf8');
const T0 = 1_700_000_000_000;

/** Feed the tool's lines as the driver does, one report line per `stepMs` from `t0`. */
function replay(texts: string[], t0: number, stepMs: number): { parser: PerfTestParser; windows: TimedWindow[] } {
  const parser = new PerfTestParser();
  const windows: TimedWindow[] = [];
  let last = t0;
  for (const text of texts)
    for (const line of text.split('\n')) {
      const r = parser.line(line);
      if (r.kind === 'window') {
        windows.push({ t0: last, t1: last + stepMs, records: r.w.records, avgMs: r.w.avgMs, maxMs: r.w.maxMs, steady: r.w.steady });
        last += stepMs;
      }
    }
  return { parser, windows };
}

describe('perf-test figures from recorded outputs', () => {
  it('4.3.1 with failing records: the failures come from the exceptions it printed, none hard-coded', () => {
    // 2000 records at 500/s to a topic whose max.message.bytes refused the 1000-byte payloads.
    const { parser, windows } = replay([fx('perftest-4.3.1-failures.stdout.txt'), fx('perftest-4.3.1-failures.stderr.txt')], T0, 1000);
    expect(parser.out.failed).toBe(580);
    expect([...parser.out.failures]).toEqual([['org.apache.kafka.common.errors.RecordTooLargeException: The request included a message larger than the max message size the server will accept.', 580]]);
    const sched = new Schedule({ startAt: T0, rate: 500, warmupS: 0, durationS: 4 });
    const f = perfTestFigures({ rate: 500, messageSize: 100, warmupS: 0 }, sched, {
      out: parser.out, windows, status: 'completed', javaStart: T0, exitAt: T0 + 38_000, numRecords: 2000, warmupRecords: 0,
    }, '4.3.1');
    expect(f.counts).toEqual({ sent: 2000, acked: 1420, failed: 580, unsent: 0, unacked: 0, bytesAcked: 142_000 });
    expect(f.target.messages).toBe(2000);
    // It completed every record but at ~37/s of the 500/s asked: it fell behind, closed-loop.
    expect(f.saturated).toBe(true);
    expect(f.latency).toEqual({ loop: 'closed', from: 'send', source: 'perf-test' });
    expect(f.latencyMs).toMatchObject({ p50: 19875, p99: 33510, samples: 1420, censored: 0 });
    expect(f.errors[0]).toEqual({ message: expect.stringMatching(/^org\.apache\.kafka\.common\.errors\.RecordTooLargeException/), count: 580 });
    expect(f.notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^580 records failed/),
      expect.stringMatching(/finished 34\.0 s after the end of the window: it fell behind its rate/),
    ]));
  });

  it('4.2.0 with --warmup-records: the steady-state line is the measured phase', () => {
    const { parser, windows } = replay([fx('perftest-4.2.0-warmup.txt')], T0, 1000);
    const sched = new Schedule({ startAt: T0, rate: 5000, warmupS: 2, durationS: 6 });
    const f = perfTestFigures({ rate: 5000, messageSize: 1024, warmupS: 2 }, sched, {
      out: parser.out, windows, status: 'completed', javaStart: T0, exitAt: T0 + 6500, numRecords: 40_000, warmupRecords: 10_000,
    }, '4.2.0');
    expect(f.counts).toMatchObject({ acked: 30_000, failed: 0, unsent: 0 });
    expect(f.warmup).toEqual({ sent: 10_000, acked: 10_000, failed: 0 }); // total − steady, the tool's own split
    expect(f.latencyMs).toMatchObject({ p50: 4, p99: 146, p999: 194, samples: 30_000 });
    expect(describeLatency({ ...f }).label).toMatch(/^closed-loop, from the actual send \(coordinated omission/);
  });

  it('a tool stopped at the end before finishing: the measured records it never completed are unsent, and the run is saturated', () => {
    // The 4.1.1 run's two 5 s report lines without its final line (as when the driver stops it):
    // asked for 5,000/s over 5 s of warm-up and 10 s measured (75,000 records), it completed 50,017.
    const text = fx('perftest-4.1.1-throttled.txt').split('\n').slice(0, 2).join('\n');
    const sched = new Schedule({ startAt: T0, rate: 5000, warmupS: 5, durationS: 10 });
    const run = (lines: string) => {
      const { parser, windows } = replay([lines], T0, 5000);
      return perfTestFigures({ rate: 5000, messageSize: 1024, warmupS: 5 }, sched, {
        out: parser.out, windows, status: 'completed', javaStart: T0, exitAt: sched.end + 25_000, stoppedAt: sched.end + 25_000, cutAtEnd: true, numRecords: 75_000, warmupRecords: 0,
      }, '4.1.1');
    };
    const f = run(text);
    expect(f.target.messages).toBe(50_000);
    expect(f.warmup.acked).toBe(19_756); // the first window began before the measured phase
    expect(f.counts).toMatchObject({ acked: 30_261, failed: 0, unsent: 75_000 - 50_017 });
    expect(f.saturated).toBe(true);
    expect(f.latencyMs).toMatchObject({ p50: null, p99: null, samples: 0 }); // unavailable, not 0
    expect(f.notes).toEqual(expect.arrayContaining([expect.stringMatching(/stopped \(records not acknowledged count as unsent\)/), expect.stringMatching(/no final line/)]));
    expect(f.notes!.some((n) => /fell behind/.test(n))).toBe(false);
    expect(describeLatency(f)).toEqual({ bound: '≥ ', label: expect.stringMatching(/SATURATED: the sender fell behind its target rate \(24983 unsent\); the wait is not in these figures$/) });
    // Cut after its first window: no measured record completed.
    expect(run(text.split('\n')[0]!).counts).toMatchObject({ acked: 0, unsent: 50_000 });
  });

  it('asks the tool for the warm-up and the measured records of its rate', () => {
    const o = { topic: 't', rate: 2000, messageSize: 1024, bootstrap: ['a:9092'], acks: 'all' as const, lingerMs: 5, batchBytes: 65536, timeouts: { requestMs: 10000 }, warmupS: 5, durationS: 30 };
    expect(perfTestArgs(o, [4, 3, 1])).toMatchObject({ numRecords: 70_000, warmupRecords: 10_000 });
  });
});
