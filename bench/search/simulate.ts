/**
 * bench/search/simulate.ts — search strategies against a simulated system with a known capacity:
 * trials and simulated wall time of GreenFlow's double+bisect vs greenrace's knee strategy (with a
 * ramp, and with an overload probe when the workload cannot ramp), from the same start load,
 * with and without noise on the capacity. Pure computation (milliseconds); no cluster.
 *
 *   npx tsx bench/search/simulate.ts            table on stdout
 *   npx tsx bench/search/simulate.ts --json     the same as JSON
 */
import { runSearch } from '../../src/campaigns/search/loop.js';
import type { SearchParams } from '../../src/campaigns/search/strategy.js';
import { SimulatedSystem } from '../../test/support/simulated-system.js';

const slo = { minRatio: 0.95, noBacklog: true, maxBacklog: 0 };
const base: Omit<SearchParams, 'strategy'> = { start: 2000, precision: 0.05, minLoad: 1, maxLoad: 1e8, maxTrials: 30, minRatio: 0.95, probeFactor: 8 };
const timing = { overheadS: 20, warmupS: 5, durationS: 20, stepS: 5 };

interface Row { capacity: number; noise: number; strategy: string; trials: number; seconds: number; within: number; error: number; runs: number }
const rows: Row[] = [];
for (const capacity of [3_700, 12_345, 61_000, 250_000])
  for (const noise of [0, 0.02]) {
    const seeds = noise ? 20 : 1;
    for (const [strategy, p, ramp] of [
      ['double-bisect', { ...base, strategy: 'double-bisect' }, false],
      ['knee (probe)', { ...base, strategy: 'knee' }, false],
      ['knee (ramp)', { ...base, strategy: 'knee', ramp: { steps: 8, factor: 2 } }, true],
    ] as const) {
      let trials = 0, seconds = 0, within = 0, error = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const o = await runSearch(p as SearchParams, slo, new SimulatedSystem({ capacity, noise, seed, canRamp: ramp, ...timing }));
        trials += o.trials.length;
        seconds += o.seconds;
        within += o.withinPrecision ? 1 : 0;
        error = Math.max(error, Math.abs((o.capacity ?? 0) - capacity) / capacity);
      }
      rows.push({ capacity, noise, strategy, trials: trials / seeds, seconds: seconds / seeds, within: within / seeds, error, runs: seeds });
    }
  }
if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`start ${base.start} msg/s, precision ${base.precision * 100} %, trial = ${timing.overheadS} s overhead + ${timing.warmupS} s warm-up + ${timing.durationS} s (ramp: ${timing.stepS} s per step)`);
  console.log('capacity  noise  strategy        trials  wall (s)  within 5 %  max |error|  searches');
  for (const r of rows)
    console.log(
      `${String(r.capacity).padStart(8)}  ${(r.noise * 100).toFixed(0).padStart(4)} %  ${r.strategy.padEnd(14)}  ${r.trials.toFixed(1).padStart(6)}  ${r.seconds.toFixed(0).padStart(8)}  ${(r.within * 100).toFixed(0).padStart(9)} %  ${(r.error * 100).toFixed(1).padStart(10)} %  ${String(r.runs).padStart(8)}`,
    );
}
