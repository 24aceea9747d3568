import { baseCrossChecks, failer } from '../config/cross-checks.js';
import { crossCheckPlatform } from '../platforms/section.js';
import { servicesCrossCheck } from '../services/registry.js';
import type { Workload } from '../workloads/contract.js';
import { WORKLOADS } from '../workloads/registry.js';
import type { Experiment } from './schema.js';

/** Every check that spans keys: the base ones, the platform's, the services' and each workload's own. */
export function crossChecks(e: Experiment, where: (path: string) => string): void {
  const fail = failer(where);
  baseCrossChecks(e, fail);
  crossCheckPlatform(e.platform, fail);
  servicesCrossCheck(e, fail);
  for (const w of WORKLOADS as readonly Workload[]) w.crossCheck?.(e, fail);
}
