/**
 * Workload flags → experiment overrides, for every front (the CLI's options, `i --load …`, the
 * shell's `ingest({...})` and `loadConfig({...})` short keys): each flag's config path comes from
 * the workload's declaration; the section's schema checks the value and its bounds (one set of
 * bounds: a bad value is reported as `--flag (key.path): must be at most …`). Light on purpose: the
 * CLI registers its options from here at start-up.
 */
import type { LoadOptions } from '../config/loader.js';
import type { FlagSpec } from '../workloads/contract.js';
import { INGEST_FLAGS } from '../workloads/ingest/flags.js';
import { MATRIX_FLAGS } from '../workloads/matrix/flags.js';
import { NET_FLAGS } from '../workloads/net/flags.js';
import { MEASURE_TOOLS, LATENCY_TOOLS } from '../workloads/net/tools/registry.js';

export type { FlagSpec };
/** The flags of each workload that has a command. */
export const FLAGS = { ingest: INGEST_FLAGS, net: NET_FLAGS, matrix: MATRIX_FLAGS } as const;
/** Tool names for the fronts' help and argument checks (the tool registry's). */
export const TOOL_CHOICES = { net: MEASURE_TOOLS, matrix: LATENCY_TOOLS } as const;

export type Override = NonNullable<LoadOptions['overrides']>[number];

/** Overrides from flag values by flag name; values that are undefined are left out. */
export function flagOverrides(flags: readonly FlagSpec[], values: Record<string, unknown>): Override[] {
  const out: Override[] = [];
  for (const f of flags) {
    const v = values[f.name];
    if (v !== undefined) out.push({ path: f.path, value: v, flag: `--${f.name}` });
  }
  return out;
}


/** The help line of a flag: its text and the key it sets. */
export const flagHelp = (f: FlagSpec): string => `${f.help} (${f.path})`;
