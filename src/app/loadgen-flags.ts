/** The flags of `entrypoint loadgen` (src/loadgen's zod-free table, for start-up) and the plan they make, for the CLI. */
export { LOADGEN_FLAGS, flagDefault } from '../loadgen/flag-table.js';
export { planFromFlags } from '../loadgen/flags.js';
