import type { Workload } from '../contract.js';
import type { NetConfig } from '../net/schema.js';
import { raceCsvRow, race as runRaceFile, type RaceArgs, type RaceRunOutcome } from './workload.js';

/**
 * `race <racefile> --exp <exp>`: a Podrace-style racefile. It reads the `net` section (netem,
 * install_tools); its own parameters come from the racefile and `--param`.
 */
export const race = {
  name: 'race',
  description: 'a Podrace-style racefile: deploy, warm-up laps, benchmark laps, collectors, cleanup',
  reads: 'net',
  flags: [],
  // What a race needs is in its racefile's `requires`, known once the racefile is loaded (see workload.ts).
  tools: () => [],
  run: runRaceFile,
  csv: { when: 'completed', row: raceCsvRow },
} satisfies Workload<NetConfig, RaceArgs, RaceRunOutcome>;
