/**
 * A simulated system with a known capacity, for testing search strategies (and bench/search's
 * simulator table): an open-loop load at rate r is carried in full while r ≤ C, and at C with a
 * growing backlog above it. Each trial sees its own capacity C·(1 + noise·z) (z standard normal,
 * seeded), like a real cluster whose capacity varies from run to run; with `band`, C·(1 + u), u
 * uniform in [−band, band] (on the real Kafka a 1 s + 4 s trial near the capacity passed or failed at
 * random over more than 5 %); with `drift`, the capacity itself moves by that fraction per trial (the
 * broker warming up: 67k → 176k msg/s over 19 minutes of bench). p99 grows as 1/(1 − ρ).
 * Wall time per trial: a fixed overhead + warm-up + measured time (a ramp: one step per rate).
 */
import type { FixedResult, RampResult, TrialExecutor } from '../../src/campaigns/search/loop.js';
import { seededRandom } from '../../src/campaigns/grid.js';

export interface SimulatedOptions {
  capacity: number;
  /** Relative standard deviation of the capacity from trial to trial (0 = none). */
  noise?: number;
  seed?: number;
  p99BaseMs?: number;
  overheadS?: number;
  warmupS?: number;
  durationS?: number;
  stepS?: number;
  /** Let the executor ramp (the knee strategy then ramps instead of probing). */
  canRamp?: boolean;
  /**
   * Report what the generator left as a real one does (`senders`): at every load the last
   * `tailMs` of messages are still queued behind the requests in flight when the window closes,
   * plus, above capacity, the backlog that grew over warm-up and window.
   */
  tailMs?: number;
  /** A ramp's steps read this fraction of the capacity (a ramp whose steps carry each other's backlog reads low). */
  rampBias?: number;
  /** Each trial's capacity is uniform within ± this fraction of the (drifted) capacity. */
  band?: number;
  /** The capacity grows by this fraction of `capacity` per trial (negative: shrinks). */
  drift?: number;
  /**
   * Memory of overload: after a trial loaded beyond its capacity, the next trial's capacity is this
   * fraction of what it would be, unless a cool-down of at least `recoveryS` came between (on this
   * machine's Kafka: 0.66, and a 70 s rest restored it; bench/search/carryover.mjs).
   */
  afterOverload?: { factor: number; recoveryS: number };
}

export class SimulatedSystem implements TrialExecutor {
  readonly trialCapacities: number[] = [];
  /** The cool-downs the search asked for, in order (seconds, the trial they came before). */
  readonly coolDowns: Array<{ seconds: number; n: number }> = [];
  private readonly rnd: () => number;
  private overloaded = false;
  private restedS = 0;
  ramp?: (rates: number[]) => Promise<RampResult>;

  constructor(private readonly o: SimulatedOptions) {
    this.rnd = seededRandom(o.seed ?? 1);
    if (o.canRamp) this.ramp = (rates) => Promise.resolve(this.runRamp(rates));
  }

  private normal(): number {
    const u = Math.max(this.rnd(), 1e-12);
    const v = this.rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The capacity without the trial-to-trial noise, at the latest trial (with drift: it moves). */
  trueCapacity(): number {
    return this.o.capacity * (1 + (this.o.drift ?? 0) * Math.max(0, this.trialCapacities.length - 1));
  }

  private capacityNow(): number {
    const base = this.o.capacity * (1 + (this.o.drift ?? 0) * this.trialCapacities.length);
    const band = this.o.band ?? 0;
    const mem = this.o.afterOverload;
    const penalty = mem && this.overloaded && this.restedS < mem.recoveryS ? mem.factor : 1;
    const c = base * (1 + (this.o.noise ?? 0) * this.normal()) * (band ? 1 + band * (2 * this.rnd() - 1) : 1) * penalty;
    this.trialCapacities.push(c);
    this.restedS = 0;
    return c;
  }

  coolDown(seconds: number, n: number): Promise<void> {
    this.coolDowns.push({ seconds, n });
    this.restedS += seconds;
    return Promise.resolve();
  }

  fixed(rate: number): Promise<FixedResult> {
    const c = this.capacityNow();
    const d = this.o.durationS ?? 20;
    const achieved = Math.min(rate, c);
    this.overloaded = rate > c;
    const rho = rate / c;
    const p99 = rho < 1 ? (this.o.p99BaseMs ?? 5) / (1 - rho) : 60_000;
    const backlog = rate > c ? Math.round((rate - c) * d) : 0;
    if (this.o.tailMs !== undefined) {
      const unsent = Math.round((rate * this.o.tailMs) / 1000) + (rate > c ? Math.round((rate - c) * ((this.o.warmupS ?? 5) + d)) : 0);
      return Promise.resolve({
        figures: { target: rate, achieved, p99Ms: p99, backlog: unsent, senders: [{ rate, unsent, unacked: 0 }] },
        seconds: (this.o.overheadS ?? 10) + (this.o.warmupS ?? 5) + d,
      });
    }
    return Promise.resolve({
      figures: { target: rate, achieved, p99Ms: p99, backlog, saturated: backlog > 0 },
      seconds: (this.o.overheadS ?? 10) + (this.o.warmupS ?? 5) + d,
    });
  }

  private runRamp(rates: number[]): RampResult {
    const c = this.capacityNow() * (this.o.rampBias ?? 1);
    let backlogged = false;
    const steps = rates.map((r) => {
      backlogged = backlogged || r > c;
      return { target: r, achieved: Math.min(r, c), backlogGrew: backlogged };
    });
    this.overloaded = backlogged;
    return { steps, seconds: (this.o.overheadS ?? 10) + (this.o.warmupS ?? 5) + rates.length * (this.o.stepS ?? 5) };
  }
}
