/**
 * The Grid'5000 API double, for tests and by hand. It is not part of the build (nothing under test/
 * goes to dist/): tests import it from here, and `npx tsx test/support/g5k-double/main.ts` starts it
 * as a server (see docs/g5k.md). server.ts is the double; this module adds test helpers on top.
 */
import { G5kDouble } from './server.js';
import type { DoubleOptions } from './server.js';
import type { Clock } from '../../../src/platforms/g5k/clock.js';

export { G5kDouble } from './server.js';
export type { DoubleOptions, Faults } from './server.js';
export { energyBetween, DEFAULT_CLUSTERS } from './fixtures.js';

/** A double with a stopped clock, started on a free port. */
export async function startDouble(opts: DoubleOptions = {}): Promise<G5kDouble> {
  const d = new G5kDouble({ speed: 0, start: 1_750_000_000, ...opts });
  await d.start();
  return d;
}

/**
 * A client clock driven by the double: sleeping advances the double's clock (instant, deterministic)
 * and is cut short by an aborted signal, as a real sleep would be. `offset`: the client's clock is
 * this many seconds behind the double's (a server clock ahead of the client). `limit`: sleeping more
 * than this in all is an error (a wait that never ends fails instead of hanging the test).
 */
export function steppedClock(d: G5kDouble, opts: { offset?: number; limit?: number } = {}): Clock & { slept: number[]; total(): number } {
  const slept: number[] = [];
  const total = (): number => slept.reduce((a, b) => a + b, 0);
  return {
    slept,
    total,
    now: () => d.clock.now() - (opts.offset ?? 0),
    sleep: async (s: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      slept.push(s);
      if (opts.limit !== undefined && total() > opts.limit) throw new Error(`slept ${total()} s in all, over the test's limit of ${opts.limit} s`);
      d.clock.advance(s);
      await Promise.resolve();
      if (signal?.aborted) throw signal.reason;
    },
  };
}
