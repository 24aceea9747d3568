/**
 * `entrypoint ingest <exp>`: one ingest run (workloads/ingest) on a set-up experiment, under the
 * experiment's lock. The run context validates, plans and records; the host executor does the
 * per-run work over SSH.
 */
import { lockState } from './state.js';
import { ingest } from '../workloads/ingest/index.js';
import type { IngestOutcome } from '../workloads/ingest/run.js';
import { createContext, type ContextOptions } from './context.js';
import { flagOverrides } from './flags.js';

export { accountIngestEnergy } from './energy.js';
export type { IngestOutcome };

export interface IngestOptions extends Omit<ContextOptions, 'exp'> {
  experiment: string;
  /** Values of the ingest flags by name (`load`, `message_size`, ...). */
  flags?: Record<string, unknown>;
  /** Seconds the generators wait for the shared start (default: the plan's). */
  startLeadS?: number;
  /** Campaigns: the outcome before the energy account, with `settled` (see IngestArgs.deferEnergy). */
  deferEnergy?: boolean;
}

/** Load and check everything that can be checked before the run (a bad flag is reported before anything runs). */
export function prepareIngest(o: IngestOptions): ReturnType<typeof createContext> {
  const args = { ...(o.startLeadS !== undefined ? { startLeadS: o.startLeadS } : {}), ...(o.deferEnergy ? { deferEnergy: true } : {}) };
  return createContext(ingest, args, {
    ...o,
    exp: o.experiment,
    overrides: [...(o.overrides ?? []), ...flagOverrides(ingest.flags, o.flags ?? {})],
  });
}

export async function runIngest(o: IngestOptions): Promise<IngestOutcome> {
  const ctx = prepareIngest(o);
  const lock = lockState(ctx.experiment.name, `entrypoint ingest ${ctx.experiment.name}`);
  try {
    return await ingest.run(ctx as Parameters<typeof ingest.run>[0]);
  } finally {
    lock.release();
    await ctx.close();
  }
}
