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

/** A client clock driven by the double: sleeping advances the double's clock (instant, deterministic). */
export function steppedClock(d: G5kDouble): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => d.clock.now(),
    sleep: async (s: number) => {
      slept.push(s);
      d.clock.advance(s);
      await Promise.resolve();
    },
  };
}
