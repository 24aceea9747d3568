/**
 * bench/search/simulate.ts — search strategies against a simulated system with a known capacity:
 * trials, simulated wall time and the capacity's error of GreenFlow's double+bisect vs greenrace's
 * knee strategy (with a ramp, and with an overload probe when the workload cannot ramp), from the
 * same start load. Pure computation (seconds); no cluster.
 *
 * Part 1: capacities 3,700–250,000, without noise and with 2 % (normal) capacity noise, 20 seeds.
 * Part 2 (Kafka-like, as bench/search/real.mjs saw the real broker): capacity 150,000 msg/s from
 * 2,000, max load 400,000; a trial passes or fails at random within ±band of the capacity
 * (uniform), the capacity drifts up by `drift` per trial (the broker warming up), the ramp reads
 * 60 % of it; knee with and without the confirmation rule (a failure within 10 % of a pass retried).
 * Error = (capacity found − the drift-free capacity at the search's last trial) / that capacity.
 *
 *   npx tsx bench/search/simulate.ts [--seeds 200]     tables on stdout
 *   npx tsx bench/search/simulate.ts --json            the same as JSON
 */
import { runSearch } from '../../src/campaigns/search/loop.js';
import type { SearchParams } from '../../src/campaigns/search/strategy.js';
import { SimulatedSystem, type SimulatedOptions } from '../../test/support/simulated-system.js';

const slo = { minRatio: 0.95, noBacklog: true, maxBacklog: 0 };
const base: Omit<SearchParams, 'strategy'> = { start: 2000, precision: 0.05, minLoad: 1, maxLoad: 1e8, maxTrials: 30, minRatio: 0.95, probeFactor: 8 };
const timing = { overheadS: 20, warmupS: 5, durationS: 20, stepS: 5 };
const seedsArg = process.argv.indexOf('--seeds');
const manySeeds = seedsArg > 0 ? Number(process.argv[seedsArg + 1]) : 200;

interface Row { part: number; capacity: number; noise: string; strategy: string; trials: number; seconds: number; within: number; meanAbsError: number; meanError: number; maxAbsError: number; runs: number }
const rows: Row[] = [];

async function measure(part: number, noise: string, strategy: string, p: SearchParams, sys: (seed: number) => SimulatedSystem, seeds: number, capacity: number): Promise<void> {
  let trials = 0, seconds = 0, within = 0, abs = 0, signed = 0, max = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const s = sys(seed);
    const o = await runSearch(p, slo, s);
    const truth = s.trueCapacity();
    const e = ((o.capacity ?? 0) - truth) / truth;
    trials += o.trials.length;
    seconds += o.seconds;
    within += o.withinPrecision ? 1 : 0;
    abs += Math.abs(e);
    signed += e;
    max = Math.max(max, Math.abs(e));
  }
  rows.push({ part, capacity, noise, strategy, trials: trials / seeds, seconds: seconds / seeds, within: within / seeds, meanAbsError: abs / seeds, meanError: signed / seeds, maxAbsError: max, runs: seeds });
}

const ramp8 = { steps: 8, factor: 2 };
for (const capacity of [3_700, 12_345, 61_000, 250_000])
  for (const noise of [0, 0.02]) {
    const seeds = noise ? 20 : 1;
    const o = (seed: number, canRamp: boolean): SimulatedOptions => ({ capacity, noise, seed, canRamp, ...timing });
    await measure(1, `${noise * 100} % normal`, 'double-bisect', { ...base, strategy: 'double-bisect' }, (s) => new SimulatedSystem(o(s, false)), seeds, capacity);
    await measure(1, `${noise * 100} % normal`, 'knee (probe)', { ...base, strategy: 'knee', confirm: 0.1 }, (s) => new SimulatedSystem(o(s, false)), seeds, capacity);
    await measure(1, `${noise * 100} % normal`, 'knee (ramp)', { ...base, strategy: 'knee', ramp: ramp8, confirm: 0.1 }, (s) => new SimulatedSystem(o(s, true)), seeds, capacity);
  }
const kafka = { ...base, maxLoad: 400_000 };
for (const [band, drift] of [[0, 0], [0.05, 0], [0.1, 0], [0.1, 0.005], [0.15, 0.005]] as const) {
  const capacity = 150_000;
  const noise = `±${band * 100} %${drift ? `, +${drift * 100} %/trial` : ''}`;
  const sys = (seed: number) => new SimulatedSystem({ capacity, band, drift, seed, canRamp: true, rampBias: 0.6, ...timing });
  const seeds = band ? manySeeds : 1;
  await measure(2, noise, 'double-bisect', { ...kafka, strategy: 'double-bisect' }, sys, seeds, capacity);
  await measure(2, noise, 'knee, no confirm', { ...kafka, strategy: 'knee', ramp: ramp8, confirm: 0 }, sys, seeds, capacity);
  await measure(2, noise, 'knee, confirm 10 %', { ...kafka, strategy: 'knee', ramp: ramp8, confirm: 0.1 }, sys, seeds, capacity);
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
else
  for (const part of [1, 2]) {
    console.log(
      part === 1
        ? `\nPart 1: start ${base.start} msg/s, precision ${base.precision * 100} %, trial = ${timing.overheadS} s overhead + ${timing.warmupS} s warm-up + ${timing.durationS} s (ramp: 8 steps × 2, ${timing.stepS} s each); knee with confirmation 10 %`
        : `\nPart 2 (Kafka-like): capacity 150000 msg/s, start 2000, max load 400000, ramp reads 60 % of the capacity; outcome random within ±band of the (drifting) capacity`,
    );
    console.log('capacity  noise                   strategy            trials  wall (s)  within 5 %  mean err  mean |err|  max |err|  searches');
    for (const r of rows.filter((x) => x.part === part))
      console.log(
        `${String(r.capacity).padStart(8)}  ${r.noise.padEnd(22)}  ${r.strategy.padEnd(18)}  ${r.trials.toFixed(2).padStart(6)}  ${r.seconds.toFixed(0).padStart(8)}  ${pct(r.within).padStart(10)}  ${pct(r.meanError).padStart(8)}  ${pct(r.meanAbsError).padStart(10)}  ${pct(r.maxAbsError).padStart(9)}  ${String(r.runs).padStart(8)}`,
      );
  }
