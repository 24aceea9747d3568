import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** The repository root: the folder holding package.json, found from this file (src/ or dist/src/). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'ansible'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export const PROJECT_ROOT = findRoot();

/** Where the tool's own assets are (ansible/, templates/, experiments/, setup/). */
export const assetPath = (...parts: string[]): string => join(PROJECT_ROOT, ...parts);

/** The working directory of the user: state and results live there. Overridable for tests. */
export function workDir(): string {
  return resolve(process.env.GREENRACE_HOME ?? process.cwd());
}

export function stateRoot(): string {
  return process.env.GREENRACE_STATE_DIR ? resolve(process.env.GREENRACE_STATE_DIR) : join(workDir(), '.greenrace');
}

export const stateDir = (exp: string): string => join(stateRoot(), exp);

export function resultsRoot(): string {
  return process.env.GREENRACE_RESULTS_DIR ? resolve(process.env.GREENRACE_RESULTS_DIR) : join(workDir(), 'results');
}

export const resultsDir = (exp: string): string => join(resultsRoot(), exp);
