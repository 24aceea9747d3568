/**
 * Open-loop schedule: message i is due at startAt + i / rate, whatever happened to the earlier
 * ones. Latency is measured from that intended time, so a stalled broker shows up as latency
 * (and as an unsent backlog) instead of being hidden by a sender that waits for acks
 * (coordinated omission).
 *
 * Times are epoch milliseconds (fractional). Phases: warm-up [startAt, measureStart), then the
 * measurement [measureStart, end). Messages due in the warm-up are sent but not measured.
 */
export interface ScheduleSpec {
  /** Shared start time of every instance, epoch ms. */
  startAt: number;
  /** Target rate of this instance, messages per second; 0 = as fast as possible (no schedule). */
  rate: number;
  warmupS: number;
  durationS: number;
}

export class Schedule {
  readonly startAt: number;
  readonly rate: number;
  readonly measureStart: number;
  readonly end: number;
  /** Messages that fall due in the whole run (Infinity when unthrottled). */
  readonly total: number;
  /** Index of the first measured message. */
  readonly firstMeasured: number;
  private readonly periodMs: number;

  constructor(s: ScheduleSpec) {
    if (!(s.rate >= 0) || !Number.isFinite(s.rate)) throw new RangeError(`rate must be ≥ 0 (got ${s.rate})`);
    if (!(s.durationS > 0)) throw new RangeError(`duration must be > 0 (got ${s.durationS})`);
    if (!(s.warmupS >= 0)) throw new RangeError(`warm-up must be ≥ 0 (got ${s.warmupS})`);
    this.startAt = s.startAt;
    this.rate = s.rate;
    this.measureStart = s.startAt + s.warmupS * 1000;
    this.end = this.measureStart + s.durationS * 1000;
    this.periodMs = s.rate > 0 ? 1000 / s.rate : 0;
    this.total = s.rate > 0 ? Math.ceil(((this.end - s.startAt) * s.rate) / 1000) : Infinity;
    this.firstMeasured = s.rate > 0 ? Math.ceil(((this.measureStart - s.startAt) * s.rate) / 1000) : 0;
  }

  get unthrottled(): boolean {
    return this.rate === 0;
  }

  /** Intended send time of message i (epoch ms). */
  intended(i: number): number {
    return this.startAt + i * this.periodMs;
  }

  /** How many messages are due at time `now` (indices 0 .. n-1), capped at the total. */
  dueBy(now: number): number {
    if (this.rate === 0) return now >= this.startAt && now < this.end ? Infinity : 0;
    if (now < this.startAt) return 0;
    const n = Math.floor(((now - this.startAt) * this.rate) / 1000) + 1;
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
