import { loadConfigFile, type LoadOptions } from '../config/loader.js';
import { crossChecks } from './cross-checks.js';
import { experimentSchema, type Experiment } from './schema.js';

export interface LoadedExperiment {
  experiment: Experiment;
  /** The experiment file, then each file it extends. */
  files: string[];
  /** Where a key's value came from (`file: key` or `--flag (key)`), for messages. */
  where: (path: string) => string;
}

/** Load, merge, override, validate and cross-check an experiment. Throws ConfigError naming file and key (or flag). */
export function loadExperiment(ref: string, opts: LoadOptions = {}): LoadedExperiment {
  const { value, files, where } = loadConfigFile(ref, experimentSchema, { ...opts, crossCheck: crossChecks });
  return { experiment: value, files, where };
}

export type { LoadOptions };
