/**
 * `.greenrace/<exp>/state.json`: what `setup` got and did, read by every later command and
 * cleared by `killjob`. Written atomically; a lock file keeps two commands on one experiment
 * from racing.
 */
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Experiment } from '../experiment/schema.js';
import { GreenraceError, UsageError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/files.js';
import { stateDir } from '../core/paths.js';
import type { ServiceName } from '../core/types.js';
import type { PlatformKind } from '../platforms/registry.js';
import type { PlatformHandle } from '../platforms/platform.js';

export const STATE_VERSION = 1;

/**
 * reserving: asking the platform for hosts (a crash here leaves only the platform's own files);
 * reserved: hosts are up, Ansible not yet run; deploying: setup.yml is running;
 * ready: set up; failed / interrupted: see `failedPhase`.
 */
export type Phase = 'reserving' | 'reserved' | 'deploying' | 'ready' | 'failed' | 'interrupted';

export interface ExperimentState {
  version: number;
  experiment: string;
  phase: Phase;
  /** The phase a failed or interrupted setup was in. */
  failedPhase?: Phase;
  lastError?: { code: string; message: string; logFile?: string };
  platformKind: PlatformKind;
  /** Absent until the platform handed hosts out. */
  platform?: PlatformHandle;
  /** The validated experiment as setup used it. */
  experimentSnapshot: Experiment;
  /** The experiment file and the files it extends. */
  files: string[];
  /** Services setup deployed or started deploying (killjob destroys these). */
  services: ServiceName[];
  endpoints: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  setupStartedAt?: string;
  setupFinishedAt?: string;
  setupSeconds?: number;
}

export const statePath = (dir: string): string => join(dir, 'state.json');
export const lockPath = (dir: string): string => join(dir, 'lock');

export function readState(dir: string): ExperimentState | undefined {
  const p = statePath(dir);
  if (!existsSync(p)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new GreenraceError('state.corrupt', `${p} is not valid JSON (${(e as Error).message}); run killjob to clean up`, { cause: e });
  }
  const s = v as Partial<ExperimentState>;
  if (!s || typeof s !== 'object' || typeof s.phase !== 'string' || typeof s.experiment !== 'string') {
    throw new GreenraceError('state.corrupt', `${p} is not a greenrace state file; run killjob to clean up`);
  }
  if ((s.version ?? 0) > STATE_VERSION) {
    throw new GreenraceError('state.version', `${p} was written by a newer greenrace (state version ${s.version})`);
  }
  return s as ExperimentState;
}

export function writeState(dir: string, s: ExperimentState): ExperimentState {
  const next = { ...s, updatedAt: new Date().toISOString() };
  writeJsonAtomic(statePath(dir), next, 0o600);
  return next;
}

export interface LockInfo {
  pid: number;
  command: string;
  since: string;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie is not a holder.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return true;
  }
}

export interface StateLock {
  dir: string;
  release(): void;
}

/**
 * Take the experiment's lock (creating its state folder). Fails with `state.locked` naming the
 * command that holds it; a lock whose process is gone is taken over.
 */
export function lockState(exp: string, command: string, dir = stateDir(exp)): StateLock {
  mkdirSync(dir, { recursive: true });
  const p = lockPath(dir);
  const info: LockInfo = { pid: process.pid, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(p, 'wx', 0o600);
      writeSync(fd, JSON.stringify(info) + '\n');
      closeSync(fd);
      let released = false;
      return {
        dir,
        release: () => {
          if (released) return;
          released = true;
          try {
            const cur = JSON.parse(readFileSync(p, 'utf8')) as LockInfo;
            if (cur.pid === process.pid) unlinkSync(p);
          } catch {
            /* gone with the state folder */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(readFileSync(p, 'utf8')) as LockInfo;
    } catch {
      holder = undefined; // being written, or garbage: treat as stale after a moment
    }
    if (holder && pidAlive(holder.pid) && holder.pid !== process.pid) {
      throw new GreenraceError(
        'state.locked',
        `experiment ${exp} is busy: \`${holder.command}\` (pid ${holder.pid}) has been working on it since ${holder.since}`,
        { hint: `wait for it, or interrupt it (Ctrl-C / kill -INT ${holder.pid})` },
      );
    }
    try {
      unlinkSync(p);
    } catch {
      /* someone else removed it */
    }
  }
  throw new GreenraceError('state.locked', `could not take the lock ${p}`);
}

/** Remove an experiment's state folder, and the `.greenrace/` folder itself when it is left empty. */
export function clearState(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const root = dirname(dir);
  try {
    if (basename(root) === '.greenrace' && existsSync(root) && readdirSync(root).length === 0) rmdirSync(root);
  } catch {
    /* not empty or not ours */
  }
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * The experiment name of a command argument that may be a name (`quickstart`) or a file path
 * (`./exp/quickstart.yaml`): status and killjob work from the state alone, even when the file is gone.
 */
export function experimentNameOf(ref: string): string {
  const name = basename(ref).replace(/\.ya?ml$/, '');
  if (!NAME_RE.test(name)) {
    throw new UsageError('usage.bad_experiment_name', `"${ref}" is not an experiment name (lowercase letters, digits, "-" and "_", at most 40)`);
  }
  return name;
}
