/**
 * A ramp inside one run: the stepped schedule (message i due when the integral of the rate reaches
 * i) and the per-step accounting, driven by a synthetic broker whose capacity is known: a FIFO
 * server acknowledging at most 1,000 msg/s. Below the capacity a step carries its target; above,
 * its achieved rate is the capacity, its backlog grows and its latency climbs.
 */
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';
import { SendAccount } from '../../../src/loadgen/native/account.js';
import { Schedule } from '../../../src/loadgen/schedule.js';
import { mergeSteps, type LoadgenSummary } from '../../../src/loadgen/summary.js';
import { parsePlan } from '../../../src/loadgen/plan.js';
import { latencyFromHistogram } from '../../../src/loadgen/summary.js';

const T0 = 5_000_000;

describe('stepped schedule', () => {
  const sched = new Schedule({ startAt: T0, rate: 0, warmupS: 1, durationS: 6, steps: [{ rate: 100, durationS: 2 }, { rate: 300, durationS: 2 }, { rate: 50, durationS: 2 }] });
  it('the warm-up runs at the first step; each step at its rate; one rate gives the old schedule', () => {
    // warm-up 1 s × 100 + 2 s × 100 + 2 s × 300 + 2 s × 50 = 1000 messages.
    expect(sched.total).toBe(1000);
    expect(sched.firstMeasured).toBe(100);
    expect(sched.steps.map((s) => [s.rate, s.first, s.last])).toEqual([
      [100, 100, 300],
      [300, 300, 900],
      [50, 900, 1000],
    ]);
    expect(sched.intended(100)).toBeCloseTo(T0 + 1000, 6);
    expect(sched.intended(301)).toBeCloseTo(T0 + 3000 + 1000 / 300, 6);
    expect(sched.intended(950)).toBeCloseTo(T0 + 5000 + 50 * 20, 6);
    expect(sched.dueBy(T0 + 3000 + 10)).toBe(300 + 4); // 300 due by the step change, 3.x more at 300/s
    expect(sched.stepOf(299)).toBe(0);
    expect(sched.stepOf(300)).toBe(1);
    expect(sched.stepOf(50)).toBe(-1);
    expect(sched.stepAt(T0 + 5500)).toBe(2);
    const one = new Schedule({ startAt: T0, rate: 250, warmupS: 1, durationS: 4 });
    expect([one.total, one.firstMeasured, one.intended(7), one.dueBy(T0 + 999)]).toEqual([1250, 250, T0 + 28, 250]);
    expect(one.steps).toHaveLength(1);
  });
  it('refuses steps that do not fill the window, or a step without a rate', () => {
    expect(() => new Schedule({ startAt: T0, rate: 0, warmupS: 0, durationS: 5, steps: [{ rate: 1, durationS: 2 }, { rate: 2, durationS: 2 }] })).toThrow(/last 4 s but the duration is 5 s/);
    expect(() => new Schedule({ startAt: T0, rate: 0, warmupS: 0, durationS: 4, steps: [{ rate: 0, durationS: 2 }, { rate: 2, durationS: 2 }] })).toThrow(/step's rate must be > 0/);
  });
});

/** Feed a schedule to a FIFO broker of `capacity` msg/s (each message sent when due, acked when served). */
function simulate(sched: Schedule, capacity: number, stopAt: number): SendAccount {
  const a = new SendAccount(sched, 100, new LatencyHistogram());
  const service = 1000 / capacity;
  let free = sched.startAt;
  const acks: Array<{ id: number; t: number }> = [];
  for (let i = 0; i < sched.total; i++) {
    const t = sched.intended(i);
    if (t >= stopAt) break;
    const id = a.sent(1, t);
    free = Math.max(free, t) + service;
    acks.push({ id, t: free });
  }
  a.closeSending(sched.end);
  for (const x of acks) if (x.t < stopAt) a.acked(x.id, x.t);
  a.censor(stopAt);
  return a;
}

describe('per-step accounting against a broker of known capacity (1,000 msg/s)', () => {
  const sched = new Schedule({ startAt: T0, rate: 0, warmupS: 1, durationS: 8, steps: [400, 800, 1600, 3200].map((rate) => ({ rate, durationS: 2 })) });
  const a = simulate(sched, 1000, sched.end + 60_000);
  const st = a.stepFigures();
  it('achieved per step: the target below the capacity, the capacity above it', () => {
    expect(st.map((s) => s.rate)).toEqual([400, 800, 1600, 3200]);
    expect(st[0]!.achieved).toBeCloseTo(400, -1);
    expect(st[1]!.achieved).toBeCloseTo(800, -1);
    expect(st[2]!.achieved).toBeCloseTo(1000, -1);
    expect(st[3]!.achieved).toBeCloseTo(1000, -1);
    expect(st.map((s) => s.due)).toEqual([800, 1600, 3200, 6400]);
  });
  it('the backlog stays flat while carried and grows past the knee by (target − capacity) × seconds', () => {
    expect(st[0]!.backlogEnd - st[0]!.backlogStart).toBeLessThanOrEqual(2);
    expect(st[1]!.backlogEnd - st[1]!.backlogStart).toBeLessThanOrEqual(2);
    expect(st[2]!.backlogEnd - st[2]!.backlogStart).toBeCloseTo(1200, -1);
    expect(st[3]!.backlogEnd - st[3]!.backlogStart).toBeCloseTo(4400, -1);
  });
  it('latency per step from the intended time: ~service time below the knee, growing past it', () => {
    const l = st.map((s) => latencyFromHistogram(s.hist));
    expect(l[0]!.p99).toBeCloseTo(1, 0);
    expect(l[1]!.p99).toBeCloseTo(1, 0);
    // Step 3: the queue grows for 2 s at 600 msg/s net: the last due message waits 1200 / 1000 s.
    expect(l[2]!.max).toBeGreaterThan(1100);
    expect(l[3]!.p50).toBeGreaterThan(l[2]!.max);
    // Every measured message is in exactly one step.
    expect(l.reduce((x, s) => x + s.samples, 0)).toBe(sched.total - sched.firstMeasured);
  });
  it('instances merge step by step (targets and acks summed)', () => {
    const summary = (): LoadgenSummary => ({ steps: st.map(({ hist, ...s }) => ({ ...s, latencyMs: latencyFromHistogram(hist), histogram: hist.toJSON() })) }) as unknown as LoadgenSummary;
    const m = mergeSteps([summary(), summary()]);
    expect(m.map((s) => s.rate)).toEqual([800, 1600, 3200, 6400]);
    expect(m[3]!.achieved).toBeCloseTo(2000, -1);
    expect(m[3]!.latencyMs.samples).toBe(2 * 6400);
    expect(mergeSteps([summary(), {} as LoadgenSummary])).toEqual([]);
  });
});

describe('the plan hand-off', () => {
  const base = { schema: 'greenrace.loadgen-plan/1', shared: { bootstrap: 'b:9092', topic: 't', durationS: 4, startAt: 1 } };
  it('a ramp is a list of steps per generator, filling the window, native driver only', () => {
    const p = parsePlan({ ...base, generators: [{ id: 'g', rate: 10, steps: [{ rate: 10, durationS: 2 }, { rate: 20, durationS: 2 }] }] }, 'plan.json', { file: false });
    expect(p.generators[0]!.steps).toHaveLength(2);
    expect(() => parsePlan({ ...base, generators: [{ id: 'g', rate: 10, steps: [{ rate: 10, durationS: 1 }, { rate: 20, durationS: 2 }] }] }, 'plan.json', { file: false })).toThrow(/plan\.json: generators\[0\]\.steps: last 3 s in all but shared\.durationS is 4 s/);
    expect(() =>
      parsePlan({ ...base, shared: { ...base.shared, driver: { name: 'perf-test', kafkaLibs: '/x' } }, generators: [{ id: 'g', rate: 10, steps: [{ rate: 10, durationS: 2 }, { rate: 20, durationS: 2 }] }] }, 'plan.json', { file: false }),
    ).toThrow(/a ramp needs the native driver/);
  });
});
