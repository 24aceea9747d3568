/**
 * The native generator's bookkeeping driven by synthetic schedules whose answer is known: every
 * measured message enters the latency figures exactly once (acked, or censored when the run ends),
 * and a backlog makes the run `saturated`.
 */
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';
import { SendAccount } from '../../../src/loadgen/native/account.js';
import { Schedule } from '../../../src/loadgen/schedule.js';
import { latencyFromHistogram } from '../../../src/loadgen/summary.js';

const T0 = 1_000_000;

/** The exact percentile (HdrHistogram's rank rule) of a list of values, µs. */
function exact(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

describe('SendAccount on synthetic schedules', () => {
  it('a broker that keeps up: every message once, at its true latency, not saturated', () => {
    const sched = new Schedule({ startAt: T0, rate: 1000, warmupS: 0, durationS: 10 });
    const h = new LatencyHistogram();
    const a = new SendAccount(sched, 100, h);
    for (let i = 0; i < 10_000; i++) {
      const id = a.sent(1, sched.intended(i));
      a.acked(id, sched.intended(i) + 5);
    }
    a.closeSending(sched.end);
    a.censor(sched.end + 20);
    // Counts follow the wall clock: the last 5 acks land after the window; latency counts all.
    expect(a.counts).toMatchObject({ sent: 10_000, acked: 9995, unsent: 0, unacked: 0, failed: 0 });
    expect(a.saturated).toBe(false);
    const l = latencyFromHistogram(h);
    expect(l).toMatchObject({ samples: 10_000, censored: 0 });
    for (const v of [l.p50, l.p99, l.max]) expect(v).toBeCloseTo(5, 2);
  });

  it('a broker at a quarter of the rate: the backlog is in the percentiles at end − intended time', () => {
    // 1,000 msg/s asked; the broker acknowledges one message every 4 ms (250 msg/s), one in flight.
    const sched = new Schedule({ startAt: T0, rate: 1000, warmupS: 0, durationS: 10 });
    const h = new LatencyHistogram();
    const a = new SendAccount(sched, 100, h);
    const want: number[] = [];
    let t = T0;
    let i = 0;
    for (; ; i++) {
      const sendAt = Math.max(sched.intended(i), t);
      if (sendAt >= sched.end) break;
      const id = a.sent(1, sendAt);
      t = sendAt + 4;
      a.acked(id, t); // the last one is acknowledged during the drain, after the end
      want.push((t - sched.intended(i)) * 1000);
    }
    a.closeSending(sched.end);
    const censorAt = t;
    a.censor(censorAt);
    // Known answer: messages 0..2499 sent at 4i ms and acknowledged at 4(i+1) ms; 2500..9999 never sent.
    expect(i).toBe(2500);
    expect(a.counts.unsent).toBe(7500);
    for (let j = 2500; j < 10_000; j++) want.push((censorAt - sched.intended(j)) * 1000);
    expect(a.saturated).toBe(true);
    const l = latencyFromHistogram(h);
    expect(l.samples).toBe(10_000);
    expect(l.censored).toBe(7500);
    for (const [p, k] of [[50, 'p50'], [99, 'p99'], [99.9, 'p999']] as const) {
      expect(Math.abs(l[k] * 1000 - exact(want, p)) / exact(want, p)).toBeLessThan(0.001);
    }
  });

  it('a steady in-flight tail at the end is not a backlog; a backlog that built up is', () => {
    // 1,000 msg/s for 10 s (message i due at i ms). The sender keeps up but the last 16 messages
    // (16 ms) are still queued behind the requests in flight when the window closes.
    const sched = new Schedule({ startAt: T0, rate: 1000, warmupS: 0, durationS: 10 });
    const steady = new SendAccount(sched, 100, new LatencyHistogram());
    for (let i = 0; i < 9984; i++) steady.acked(steady.sent(1, sched.intended(i)), sched.intended(i) + 20);
    steady.closeSending(sched.end);
    steady.censor(sched.end + 30);
    expect(steady.counts).toMatchObject({ unsent: 16, unacked: 0 });
    expect(steady.senderLagMs).toBeCloseTo(16, 6);
    expect(steady.overdue()).toBe(0);
    expect(steady.saturated).toBe(false);
    // With a 10 ms grace, the messages due at 9,984..9,989 ms are overdue: 6.
    expect(steady.overdue(10)).toBe(6);
    // A broker carrying 900 of 1,000 msg/s: message i leaves at i / 0.9 ms, the sender ends 1 s
    // behind, 1,000 unsent, of which those due before 9,750 ms (750) are overdue.
    const behind = new SendAccount(sched, 100, new LatencyHistogram());
    for (let i = 0; T0 + i / 0.9 < sched.end; i++) behind.acked(behind.sent(1, T0 + i / 0.9), T0 + i / 0.9 + 20);
    behind.closeSending(sched.end);
    behind.censor(sched.end + 30);
    expect(behind.counts.unsent).toBe(1000);
    expect(behind.senderLagMs).toBeCloseTo(1000, 6);
    expect(behind.overdue()).toBe(750);
    expect(behind.saturated).toBe(true);
  });

  it('a request never acknowledged is `unacked`, censored from its messages\' intended times', () => {
    const sched = new Schedule({ startAt: T0, rate: 100, warmupS: 0, durationS: 1 });
    const h = new LatencyHistogram();
    const a = new SendAccount(sched, 100, h);
    const ok = a.sent(90, T0 + 900);
    a.acked(ok, T0 + 910);
    a.sent(10, T0 + 995); // messages 90..99, due at 900..990 ms, never acknowledged
    a.closeSending(sched.end);
    a.censor(T0 + 4000);
    a.acked(1, T0 + 5000); // a late ack after the generator stopped waiting changes nothing
    expect(a.counts).toMatchObject({ acked: 90, unacked: 10, unsent: 0 });
    expect(a.saturated).toBe(true);
    const l = latencyFromHistogram(h);
    expect(l.samples).toBe(100);
    expect(l.censored).toBe(10);
    expect(l.max).toBeCloseTo(3100, -1); // message 90: due at 900 ms, still pending at 4000 ms
    expect([...a.errors.keys()]).toEqual(['no acknowledgement when the generator stopped waiting']);
  });

  it('failed sends count as failed and their measured messages are censored too', () => {
    const sched = new Schedule({ startAt: T0, rate: 10, warmupS: 0, durationS: 1 });
    const h = new LatencyHistogram();
    const a = new SendAccount(sched, 100, h);
    const x = a.sent(5, T0 + 400);
    a.acked(x, T0 + 410);
    const y = a.sent(5, T0 + 900);
    a.failed(y, T0 + 950, 'NOT_ENOUGH_REPLICAS');
    a.censor(T0 + 1000);
    expect(a.counts).toMatchObject({ acked: 5, failed: 5, unsent: 0, unacked: 0 });
    expect(a.saturated).toBe(false);
    expect(latencyFromHistogram(h)).toMatchObject({ samples: 10, censored: 5 });
    expect(a.errors.get('NOT_ENOUGH_REPLICAS')).toBe(5);
  });

  it('the warm-up is counted apart and never measured', () => {
    const sched = new Schedule({ startAt: T0, rate: 100, warmupS: 1, durationS: 2 });
    const h = new LatencyHistogram();
    const a = new SendAccount(sched, 10, h);
    for (let i = 0; i < 300; i++) a.acked(a.sent(1, sched.intended(i)), sched.intended(i) + 2);
    a.censor(sched.end);
    expect(a.warm).toEqual({ sent: 100, acked: 100, failed: 0 });
    expect(a.counts.acked).toBe(200);
    expect(a.dueMeasured).toBe(200);
    expect(h.count).toBe(200);
  });

  it('stopped half-way: only what fell due before the stop is a backlog', () => {
    const sched = new Schedule({ startAt: T0, rate: 100, warmupS: 0, durationS: 10 });
    const a = new SendAccount(sched, 10, new LatencyHistogram());
    for (let i = 0; i < 300; i++) a.acked(a.sent(1, sched.intended(i)), sched.intended(i) + 2);
    a.closeSending(T0 + 4000); // stopped at 4 s: 400 due, 300 sent
    expect(a.counts.unsent).toBe(100);
    expect(a.dueMeasured).toBe(400);
  });

  it('unthrottled: latency from the actual send; a request left pending is censored from its send', () => {
    const sched = new Schedule({ startAt: T0, rate: 0, warmupS: 0, durationS: 1 });
    const h = new LatencyHistogram();
    const a = new SendAccount(sched, 10, h);
    a.acked(a.sent(100, T0 + 100), T0 + 103);
    a.sent(100, T0 + 990);
    a.censor(T0 + 1990);
    expect(a.counts).toMatchObject({ sent: 200, acked: 100, unacked: 100, unsent: 0 });
    const l = latencyFromHistogram(h);
    expect(l).toMatchObject({ samples: 200, censored: 100 });
    expect(l.p50).toBeCloseTo(3, 2);
    expect(l.max).toBeCloseTo(1000, -1);
  });
});
