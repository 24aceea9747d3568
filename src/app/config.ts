/**
 * Experiment files for the fronts (cli, repl): load one (validated, with its overrides), list them.
 * The machinery is src/config's; the whole schema is src/experiment's.
 */
export { loadExperiment, type LoadedExperiment } from '../experiment/load.js';
export type { Experiment } from '../experiment/schema.js';
export { listExperiments, type LoadOptions } from '../config/loader.js';
