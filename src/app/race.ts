/** `race <racefile> --exp <exp>`: a Podrace-style racefile (workloads/race) through the run context. */
import { race as raceWorkload } from '../workloads/race/index.js';
import type { RaceArgs, RaceRunOutcome } from '../workloads/race/workload.js';
import { runWorkload, type ContextOptions } from './runs.js';

export type RaceRunOptions = ContextOptions & RaceArgs;
export type { RaceRunOutcome };

export function race(o: RaceRunOptions): Promise<RaceRunOutcome> {
  const { racefile, params, ...rest } = o;
  return runWorkload(raceWorkload, { racefile, ...(params ? { params } : {}) }, rest);
}
