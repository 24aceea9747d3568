/**
 * The native generator's bookkeeping, apart from any Kafka client so it can be driven by synthetic
 * schedules in tests: which messages were sent, acknowledged, failed, never sent or never
 * acknowledged, and their latencies.
 *
 * Two clocks, said once:
 *  - counts (`sent`, `acked`, `failed`, bytes, the per-second series) follow the wall clock: a
 *    message sent or acknowledged inside the measurement window counts there (the final flush of
 *    messages due in the window, sent as it ends, counts as sent in it; acks after its end do not);
 *  - latency follows the intended time (throttled: message i is due at start + i/rate, measured
 *    when due inside the window; unthrottled: from its actual send inside the window). Every
 *    measured message enters the histogram exactly once: at its acknowledgement, or censored at
 *    `censorAt − intended` when the generator stops waiting (never sent: `unsent`; sent but no ack:
 *    `unacked`; send failed: `failed`). So the percentiles never hide a backlog.
 *
 * A ramp (the schedule's `steps`) is accounted per step the same way: acks by their arrival time
 * in the step's window (its achieved rate), latencies by the step the message was due in (its own
 * histogram, censored ones included), and the backlog (due − acknowledged) at each step's bounds.
 */
import { LatencyHistogram } from '../histogram.js';
import type { LoadgenMetrics } from '../metrics.js';
import type { Schedule } from '../schedule.js';
import { BACKLOG_GRACE_MS } from '../summary.js';

interface Batch {
  first: number;
  n: number;
  sentAt: number;
  /** Measured messages of the batch: indices [mFrom, mFrom + mN) (throttled), or a count (unthrottled). */
  mFrom: number;
  mN: number;
}

export class SendAccount {
  readonly counts = { sent: 0, acked: 0, failed: 0, unsent: 0, unacked: 0, bytesAcked: 0 };
  readonly warm = { sent: 0, acked: 0, failed: 0 };
  readonly errors = new Map<string, number>();
  /** Acks per second of the window (index = second since the window start). */
  readonly perSecond: number[] = [];
  /** Index of the next message to send. */
  next = 0;
  /** Measured messages due by the end of sending (throttled), for the target. */
  dueMeasured: number | undefined;
  inflight = 0;
  censoredAt: number | undefined;
  private pending = new Map<number, Batch>();
  private failedMeasured: Batch[] = [];
  private unsentFrom = 0;
  /** When sending ended (the window's end, or earlier when stopped), epoch ms. */
  private sendEnd: number | undefined;
  private endIdx = 0;
  private ids = 0;
  private closed = false;
  /** A ramp: acks arrived in each step's window, and each step's latencies (by due time). */
  readonly stepAcked: number[];
  readonly stepHists: LatencyHistogram[];
  /** All acks so far (warm-up, window and after), for the backlog at step bounds. */
  private ackLog: Array<{ t: number; n: number }> = [];

  constructor(
    private readonly sched: Schedule,
    private readonly size: number,
    private readonly hist: LatencyHistogram,
    private readonly metrics?: LoadgenMetrics,
  ) {
    const ramp = sched.steps.length > 1;
    this.stepAcked = ramp ? sched.steps.map(() => 0) : [];
    this.stepHists = ramp ? sched.steps.map(() => new LatencyHistogram()) : [];
  }

  private get ramp(): boolean {
    return this.stepHists.length > 0;
  }

  /** Record latencies of measured messages [from, from + n) in their steps' histograms (a ramp only). */
  private stepRecord(from: number, n: number, us: (i: number) => number, censored: boolean): void {
    if (!this.ramp) return;
    for (let i = from; i < from + n; i++) {
      const k = this.sched.stepOf(i);
      if (k < 0) continue;
      if (censored) this.stepHists[k]!.recordCensored(us(i));
      else this.stepHists[k]!.record(us(i));
    }
  }

  /**
   * Per step of a ramp: target rate, acks in its window and the achieved rate, its latency
   * histogram, and the backlog (messages due minus acknowledged) at its start and end.
   */
  stepFigures(): Array<{ rate: number; start: number; end: number; due: number; acked: number; achieved: number; backlogStart: number; backlogEnd: number; hist: LatencyHistogram }> {
    if (!this.ramp) return [];
    const ackedBy = (t: number): number => this.ackLog.reduce((a, x) => a + (x.t < t ? x.n : 0), 0);
    const backlog = (t: number): number => Math.max(0, Math.min(this.sched.dueBy(t - 1e-9), this.sched.total) - ackedBy(t));
    return this.sched.steps.map((st, k) => ({
      rate: st.rate,
      start: st.start,
      end: st.end,
      due: st.last - st.first,
      acked: this.stepAcked[k]!,
      achieved: (this.stepAcked[k]! * 1000) / (st.end - st.start),
      backlogStart: backlog(st.start),
      backlogEnd: backlog(st.end),
      hist: this.stepHists[k]!,
    }));
  }

  /** Messages [next, next + n) handed to the client at `sentAt`; returns the batch id. */
  sent(n: number, sentAt: number): number {
    const s = this.sched;
    const first = this.next;
    this.next += n;
    let mFrom = 0;
    let mN = 0;
    if (s.unthrottled) mN = sentAt >= s.measureStart && sentAt < s.end ? n : 0;
    else {
      mFrom = Math.max(first, s.firstMeasured);
      mN = Math.max(0, Math.min(first + n, s.total) - mFrom);
    }
    // Sent at or after the end: the final flush of messages due in the window; counted there.
    const inWindow = sentAt >= s.measureStart;
    if (inWindow) this.counts.sent += n;
    else this.warm.sent += n;
    this.metrics?.sent.inc({ phase: inWindow ? 'measure' : 'warmup' }, n);
    const id = this.ids++;
    this.pending.set(id, { first, n, sentAt, mFrom, mN });
    this.inflight++;
    this.metrics?.inflight.set(this.inflight);
    return id;
  }

  /** The batch's acknowledgement arrived at `t`. Ignored once censored. */
  acked(id: number, t: number): void {
    const b = this.take(id);
    if (!b) return;
    const s = this.sched;
    const phase = t < s.measureStart ? 'warmup' : t < s.end ? 'measure' : 'after';
    if (phase === 'measure') {
      this.counts.acked += b.n;
      this.counts.bytesAcked += b.n * this.size;
      const sec = Math.floor((t - s.measureStart) / 1000);
      this.perSecond[sec] = (this.perSecond[sec] ?? 0) + b.n;
    } else if (phase === 'warmup') this.warm.acked += b.n;
    this.metrics?.acked.inc({ phase: phase === 'warmup' ? 'warmup' : 'measure' }, b.n);
    if (phase !== 'warmup') this.metrics?.bytesAcked.inc({ phase: 'measure' }, b.n * this.size);
    if (this.ramp && this.censoredAt === undefined) {
      this.ackLog.push({ t, n: b.n });
      const k = s.stepAt(t);
      if (k >= 0) this.stepAcked[k] = this.stepAcked[k]! + b.n;
    }
    if (b.mN === 0) return;
    if (s.unthrottled) this.hist.record((t - b.sentAt) * 1000, b.mN);
    else for (let i = b.mFrom; i < b.mFrom + b.mN; i++) this.hist.record((t - s.intended(i)) * 1000);
    this.stepRecord(b.mFrom, b.mN, (i) => (t - s.intended(i)) * 1000, false);
  }

  /** The batch's send failed at `t`. Ignored once censored. */
  failed(id: number, t: number, message: string): void {
    const b = this.take(id);
    if (!b) return;
    this.errors.set(message, (this.errors.get(message) ?? 0) + b.n);
    if (t < this.sched.measureStart) this.warm.failed += b.n;
    else this.counts.failed += b.n;
    this.metrics?.failed.inc({ phase: t < this.sched.measureStart ? 'warmup' : 'measure' }, b.n);
    if (b.mN > 0) this.failedMeasured.push(b);
  }

  /**
   * Sending ends at `stopAt` (the window's end, or earlier when stopped or failed): measured
   * messages due by then and not sent are the `unsent` backlog.
   */
  closeSending(stopAt: number): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.sched;
    if (s.unthrottled) return;
    this.sendEnd = Math.min(stopAt, s.end);
    const endIdx = (this.endIdx = Math.min(s.dueBy(this.sendEnd - 1e-9), s.total));
    this.dueMeasured = Math.max(0, endIdx - s.firstMeasured);
    this.unsentFrom = Math.max(this.next, s.firstMeasured);
    this.counts.unsent = Math.max(0, endIdx - this.unsentFrom);
  }

  /** The generator stops waiting at `censorAt`: record what never completed, censored. */
  censor(censorAt: number): void {
    if (this.censoredAt !== undefined) return;
    this.closeSending(censorAt);
    this.censoredAt = censorAt;
    const s = this.sched;
    const ramp = (b: { mFrom: number; mN: number; sentAt: number }): void => {
      if (b.mN === 0) return;
      if (s.unthrottled) this.hist.recordCensored((censorAt - b.sentAt) * 1000, b.mN);
      else if (!this.ramp) this.hist.recordCensoredRamp((censorAt - s.intended(b.mFrom)) * 1000, (1000 / s.rate) * 1000, b.mN);
      else {
        // A ramp: the spacing of due times changes from step to step, so one by one.
        for (let i = b.mFrom; i < b.mFrom + b.mN; i++) this.hist.recordCensored((censorAt - s.intended(i)) * 1000);
        this.stepRecord(b.mFrom, b.mN, (i) => (censorAt - s.intended(i)) * 1000, true);
      }
    };
    for (const b of this.pending.values()) {
      this.counts.unacked += b.mN;
      ramp(b);
    }
    if (this.pending.size) {
      const e = 'no acknowledgement when the generator stopped waiting';
      const n = [...this.pending.values()].reduce((a, b) => a + b.n, 0);
      this.errors.set(e, (this.errors.get(e) ?? 0) + n);
    }
    this.pending.clear();
    for (const b of this.failedMeasured) ramp(b);
    if (this.counts.unsent > 0) ramp({ mFrom: this.unsentFrom, mN: this.counts.unsent, sentAt: 0 });
  }

  /**
   * The backlog the run left: measured messages never acknowledged (the generator waited for
   * them past the end), plus those never sent although they were due more than `graceMs` before
   * sending ended. Messages due in the last `graceMs` and still queued behind the requests in
   * flight are the pipeline's tail, not a backlog: a sender that keeps up is always a few
   * milliseconds of messages behind when the window closes.
   */
  overdue(graceMs: number = BACKLOG_GRACE_MS): number {
    const s = this.sched;
    let late = 0;
    if (!s.unthrottled && this.sendEnd !== undefined && this.counts.unsent > 0) {
      late = Math.max(0, Math.min(s.dueBy(this.sendEnd - graceMs - 1e-9), this.endIdx) - this.unsentFrom);
    }
    return this.counts.unacked + late;
  }

  /** How far behind its schedule the sender was when sending ended, ms (0: on time). */
  get senderLagMs(): number {
    const s = this.sched;
    if (s.unthrottled || this.sendEnd === undefined || this.counts.unsent === 0) return 0;
    return Math.max(0, this.sendEnd - s.intended(this.unsentFrom));
  }

  /** The run left a backlog (see `overdue`). */
  get saturated(): boolean {
    return this.overdue() > 0;
  }

  private take(id: number): Batch | undefined {
    const b = this.pending.get(id);
    if (!b) return undefined;
    this.pending.delete(id);
    this.inflight--;
    this.metrics?.inflight.set(this.inflight);
    return b;
  }
}
