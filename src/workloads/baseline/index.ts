import { RunError } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import type { RunWindow } from '../../core/types.js';
import type { EnergyAccount } from '../../metrics/energy/index.js';
import type { RunContext, Workload } from '../contract.js';

export interface BaselineArgs {
  /** Length of the idle window. */
  seconds: number;
  /** Called once a second with the seconds left. */
  onTick?: (left: number) => void;
}

export interface IdleMeasurement {
  window: RunWindow;
  account: EnergyAccount;
}

const interrupted = (): Error => new RunError('run.interrupted', 'baseline interrupted');

/** Idle power: nothing runs on the hosts for N seconds but the monitoring stack; the energy account of that window. */
async function measureIdle(ctx: RunContext<undefined, BaselineArgs>): Promise<IdleMeasurement> {
  const { seconds, onTick } = ctx.args;
  const start = Date.now() / 1000;
  for (let left = seconds; left > 0; left--) {
    onTick?.(left);
    await sleep(Math.min(1, left) * 1000, ctx.signal, interrupted);
  }
  const window = { start, end: start + seconds };
  return { window, account: await ctx.energy(window, { baseline: false }) };
}

/** `baseline`: the idle power of the experiment's machines, which later energy figures subtract. */
export const baseline = {
  name: 'baseline',
  description: 'idle power per machine over a window with nothing running (stored for dynamic-energy figures)',
  flags: [],
  tools: () => [],
  run: measureIdle,
} satisfies Workload<undefined, BaselineArgs, IdleMeasurement>;
