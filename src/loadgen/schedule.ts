/**
 * Open-loop schedule: message i is due at startAt + i / rate, whatever happened to the earlier
 * ones. Latency is measured from that intended time, so a stalled broker shows up as latency
 * (and as an unsent backlog) instead of being hidden by a sender that waits for acks
 * (coordinated omission).
 *
 * Times are epoch milliseconds (fractional). Phases: warm-up [startAt, measureStart), then the
 * measurement [measureStart, end). Messages due in the warm-up are sent but not measured.
 *
 * A ramp (`steps`) raises the rate inside one run: the measurement is the steps one after the
 * other, each at its own rate (the warm-up runs at the first step's rate). The schedule is then
 * piecewise: C(t), the messages due by t, is the integral of the rate; message i is due when
 * C(t) = i. With one rate this is exactly startAt + i / rate.
 */

/** One step of a ramp: its rate (msg/s) for its duration (s). */
export interface RampStepSpec {
  rate: number;
  durationS: number;
}

/** A step's place in time and in the message sequence. */
export interface StepWindow {
  rate: number;
  /** Epoch ms. */
  start: number;
  end: number;
  /** Messages due in [start, end): indices [first, last). */
  first: number;
  last: number;
}

interface Segment {
  start: number;
  end: number;
  rate: number;
  /** C(start): messages due before the segment (fractional). */
  c0: number;
}
export interface ScheduleSpec {
  /** Shared start time of every instance, epoch ms. */
  startAt: number;
  /** Target rate of this instance, messages per second; 0 = as fast as possible (no schedule). */
  rate: number;
  warmupS: number;
  durationS: number;
  /** A ramp: the measurement is these steps in turn (their durations sum to `durationS`); `rate` is ignored. */
  steps?: RampStepSpec[];
}

export class Schedule {
  readonly startAt: number;
  /** The rate (a ramp: its first step's, which the warm-up runs at). */
  readonly rate: number;
  readonly measureStart: number;
  readonly end: number;
  /** Messages that fall due in the whole run (Infinity when unthrottled). */
  readonly total: number;
  /** Index of the first measured message. */
  readonly firstMeasured: number;
  /** The ramp's steps in time and in messages (one step, the whole window, without a ramp). */
  readonly steps: StepWindow[];
  private readonly segs: Segment[];

  constructor(s: ScheduleSpec) {
    const steps = s.steps;
    const rate = steps?.length ? steps[0]!.rate : s.rate;
    if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be ≥ 0 (got ${rate})`);
    if (!(s.durationS > 0)) throw new RangeError(`duration must be > 0 (got ${s.durationS})`);
    if (!(s.warmupS >= 0)) throw new RangeError(`warm-up must be ≥ 0 (got ${s.warmupS})`);
    if (steps?.length) {
      for (const st of steps) {
        if (!(st.rate > 0) || !Number.isFinite(st.rate)) throw new RangeError(`a ramp step's rate must be > 0 (got ${st.rate})`);
        if (!(st.durationS > 0)) throw new RangeError(`a ramp step's duration must be > 0 (got ${st.durationS})`);
      }
      const sum = steps.reduce((a, st) => a + st.durationS, 0);
      if (Math.abs(sum - s.durationS) > 1e-6) throw new RangeError(`the ramp's steps last ${sum} s but the duration is ${s.durationS} s`);
    }
    this.startAt = s.startAt;
    this.rate = rate;
    this.measureStart = s.startAt + s.warmupS * 1000;
    this.end = this.measureStart + s.durationS * 1000;
    const parts: Array<{ rate: number; ms: number }> = steps?.length
      ? [{ rate, ms: s.warmupS * 1000 }, ...steps.map((st) => ({ rate: st.rate, ms: st.durationS * 1000 }))]
      : [{ rate, ms: (s.warmupS + s.durationS) * 1000 }];
    this.segs = [];
    let t = s.startAt;
    let c = 0;
    for (const p of parts) {
      if (p.ms <= 0) continue;
      this.segs.push({ start: t, end: t + p.ms, rate: p.rate, c0: c });
      c += (p.ms * p.rate) / 1000;
      t += p.ms;
    }
    this.total = rate > 0 ? Math.ceil(this.due(this.end)) : Infinity;
    this.firstMeasured = rate > 0 ? Math.ceil(this.due(this.measureStart)) : 0;
    const windows = steps?.length ? this.segs.filter((g) => g.start >= this.measureStart) : [{ start: this.measureStart, end: this.end, rate, c0: 0 }];
    this.steps = windows.map((g) => ({
      rate: g.rate,
      start: g.start,
      end: g.end,
      first: rate > 0 ? Math.ceil(this.due(g.start)) : 0,
      last: rate > 0 ? Math.min(Math.ceil(this.due(g.end)), this.total) : 0,
    }));
  }

  /** C(t): messages due by time t (fractional; the integral of the rate from the start). */
  private due(t: number): number {
    if (t <= this.startAt) return 0;
    let g = this.segs[this.segs.length - 1]!;
    for (const x of this.segs) {
      if (t < x.end) {
        g = x;
        break;
      }
    }
    return g.c0 + ((Math.min(t, g.end) - g.start) * g.rate) / 1000;
  }

  /** The step (index into `steps`) message i is due in, or -1 (warm-up, or past the end). */
  stepOf(i: number): number {
    for (let k = 0; k < this.steps.length; k++) if (i >= this.steps[k]!.first && i < this.steps[k]!.last) return k;
    return -1;
  }

  /** The step a wall-clock time falls in, or -1. */
  stepAt(t: number): number {
    for (let k = 0; k < this.steps.length; k++) if (t >= this.steps[k]!.start && t < this.steps[k]!.end) return k;
    return -1;
  }

  /** The rate message i is sent at (its segment's). */
  rateOf(i: number): number {
    const t = this.intended(i);
    for (const g of this.segs) if (t < g.end) return g.rate;
    return this.segs[this.segs.length - 1]!.rate;
  }

  get unthrottled(): boolean {
    return this.rate === 0;
  }

  /** Intended send time of message i (epoch ms): C(t) = i. */
  intended(i: number): number {
    if (this.rate === 0) return this.startAt;
    for (const g of this.segs) {
      const c1 = g.c0 + ((g.end - g.start) * g.rate) / 1000;
      if (i < c1) return g.start + ((i - g.c0) * 1000) / g.rate;
    }
    const g = this.segs[this.segs.length - 1]!;
    return g.start + ((i - g.c0) * 1000) / g.rate;
  }

  /** How many messages are due at time `now` (indices 0 .. n-1), capped at the total. */
  dueBy(now: number): number {
    if (this.rate === 0) return now >= this.startAt && now < this.end ? Infinity : 0;
    if (now < this.startAt) return 0;
    const n = Math.floor(this.due(now)) + 1;
    return n > this.total ? this.total : n;
  }

  /** Milliseconds from `now` until message i is due (≤ 0 when already due). */
  untilDue(i: number, now: number): number {
    return this.intended(i) - now;
  }

  isMeasured(i: number): boolean {
    return i >= this.firstMeasured && i < this.total;
  }

  /** Phase of a wall-clock time. */
  phase(now: number): 'waiting' | 'warmup' | 'measure' | 'done' {
    if (now < this.startAt) return 'waiting';
    if (now < this.measureStart) return 'warmup';
    if (now < this.end) return 'measure';
    return 'done';
  }

  /** Messages the measurement phase should carry (Infinity when unthrottled). */
  get measuredTarget(): number {
    return this.total - this.firstMeasured;
  }
}

/** Epoch ms with sub-millisecond resolution, monotonic within the process. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
