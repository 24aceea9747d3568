/** Helpers for the setup-*.test.ts files: a temp GREENRACE_HOME with experiment files, the CLI as a child process. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const REPO = resolve(import.meta.dirname, '..', '..');
/** tsx's loader by absolute URL: the CLI runs in the temp home, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface Home {
  dir: string;
  stateDir(exp: string): string;
  state(exp: string): any;
  write(exp: string, yamlText: string): void;
}

export function makeHome(prefix: string): Home {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'experiments'));
  return homeAt(dir);
}

/** The Home of an existing folder (one made by makeHome, e.g. in another test file). */
export function homeAt(dir: string): Home {
  return {
    dir,
    stateDir: (exp) => join(dir, '.greenrace', exp),
    state: (exp) => JSON.parse(readFileSync(join(dir, '.greenrace', exp, 'state.json'), 'utf8')),
    write: (exp, text) => writeFileSync(join(dir, 'experiments', `${exp}.yaml`), text),
  };
}

/** `entrypoint <args>` from the sources (no build needed), in the home folder. */
export function cli(home: Home, args: string[], opts: { timeout?: number; input?: string } = {}): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, ['--import', TSX, join(REPO, 'entrypoint.ts'), ...args], {
    cwd: home.dir,
    env: { GREENRACE_HOME: home.dir, NO_COLOR: '1' },
    reject: false,
    all: true,
    timeout: opts.timeout ?? 600_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  }) as ResultPromise<{ reject: false; all: true }>;
}
