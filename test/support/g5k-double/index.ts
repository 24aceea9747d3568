/**
 * The Grid'5000 API double for tests. Its runtime lives in src/platforms/g5k/double/ so that the
 * normal build (tsc over src/**) compiles it and `node dist/src/platforms/g5k/double/main.js` starts
 * it by hand; this module adds test helpers on top.
 */
import { G5kDouble } from '../../../src/platforms/g5k/double/server.js';
import type { DoubleOptions } from '../../../src/platforms/g5k/double/server.js';
import type { Clock } from '../../../src/platforms/g5k/clock.js';

export { G5kDouble } from '../../../src/platforms/g5k/double/server.js';
export type { DoubleOptions, Faults } from '../../../src/platforms/g5k/double/server.js';
export { energyBetween, DEFAULT_CLUSTERS } from '../../../src/platforms/g5k/double/fixtures.js';

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
