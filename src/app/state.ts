/**
 * `.greenrace/<exp>/state.json`: what `setup` got and did, read by every later command and
 * cleared by `killjob`. Written atomically; a lock file keeps two commands on one experiment
 * from racing.
 */
import { closeSync, existsSync, linkSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { K8sDistribution } from '../config/schema/kubernetes.js';
import type { Experiment } from '../experiment/schema.js';
import { GreenraceError, UsageError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/files.js';
import { stateDir } from '../core/paths.js';
import type { ServiceName } from '../core/types.js';
import type { PlatformKind } from '../platforms/registry.js';
import type { PlatformHandle } from '../platforms/platform.js';
import type { ExpectedTarget } from '../services/registry.js';

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
  /**
   * The Kubernetes cluster of `runtime: k3s` setup deployed or started deploying (killjob brings it
   * down with these variables): its distribution and kubernetes.yml's extra-vars.
   */
  kubernetes?: { distribution: K8sDistribution; vars: Record<string, unknown> };
  /** Services setup deployed or started deploying (killjob destroys these). */
  services: ServiceName[];
  endpoints: Record<string, string>;
  /** The targets Prometheus should scrape (setup's expectation, for `status`); absent without Prometheus. */
  scrapeTargets?: ExpectedTarget[];
  createdAt: string;
  updatedAt: string;
  setupStartedAt?: string;
  setupFinishedAt?: string;
  setupSeconds?: number;
  /** The inputs of the last setup that finished `ready` (app/setup-inplace.ts): a setup with the same ones may skip setup.yml. `deploy` and playbooks run on the hosts remove it. */
  setupFingerprint?: string;
  /** The services' main ports that did not answer after that setup (`service on host (address:port)`): a later check expects the same. */
  setupSilent?: string[];
  /** The last setup, when it skipped setup.yml (everything in place): when, and how long it took. setupFinishedAt/setupSeconds stay those of the setup that deployed. */
  setupSkipped?: { at: string; seconds: number };
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

/**
 * A play is about to change the hosts outside setup (`deploy`, `p()`, a playbook): the next setup must
 * run setup.yml again, so the record of what the last setup deployed goes (app/setup-inplace.ts).
 */
export function forgetSetupFingerprint(dir: string): void {
  const st = readState(dir);
  if (!st || st.setupFingerprint === undefined) return;
  const { setupFingerprint: _f, setupSilent: _s, ...rest } = st;
  writeState(dir, rest);
}

export interface LockInfo {
  pid: number;
  command: string;
  since: string;
  /** Random per lock taken: tells a lock this process holds from a stale one left under a reused pid. */
  token?: string;
}

/** Tokens of the locks this process holds. */
const heldTokens = new Set<string>();

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

/** Whether the command that wrote a lock is still at work. */
function holderAlive(h: LockInfo): boolean {
  if (h.pid === process.pid) return h.token !== undefined && heldTokens.has(h.token);
  return pidAlive(h.pid);
}

export interface StateLock {
  dir: string;
  release(): void;
}

export interface LockOptions {
  /** Called with a lock judged stale, before it is broken (tests use it to race another command in). */
  onStale?: (holder: LockInfo | undefined) => void;
}

/** Wait a few milliseconds without giving the event loop away (the lock is taken synchronously). */
const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Create the lock file with its whole content at once (link fails when it exists): never seen half-written. */
function createLock(p: string, info: LockInfo): boolean {
  const tmp = `${p}.${process.pid}.${info.token}.tmp`;
  writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
  try {
    linkSync(tmp, p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Remove a stale lock, but only if it is still the one judged stale (`seen`, its exact content):
 * under a guard file (created exclusively) the lock is read again and removed only when unchanged.
 * Two commands breaking the same stale lock cannot remove the fresh lock one of them just took.
 * A guard left by a command that died while holding it (it is held for microseconds) is removed
 * once it is 10 s old.
 */
function breakStaleLock(p: string, seen: string): void {
  const guard = `${p}.break`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(guard).mtimeMs > 10_000) unlinkSync(guard);
    } catch {
      /* gone meanwhile */
    }
    return;
  }
  try {
    let now: string | undefined;
    try {
      now = readFileSync(p, 'utf8');
    } catch {
      now = undefined;
    }
    if (now === seen) unlinkSync(p);
  } finally {
    closeSync(fd);
    rmSync(guard, { force: true });
  }
}

/**
 * Take the experiment's lock (creating its state folder). Fails with `state.locked` naming the
 * command that holds it; a lock whose process is gone is taken over (see breakStaleLock).
 */
export function lockState(exp: string, command: string, dir = stateDir(exp), opts: LockOptions = {}): StateLock {
  mkdirSync(dir, { recursive: true });
  const p = lockPath(dir);
  const info: LockInfo = { pid: process.pid, command, since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createLock(p, info)) {
      heldTokens.add(info.token!);
      let released = false;
      return {
        dir,
        release: () => {
          if (released) return;
          released = true;
          heldTokens.delete(info.token!);
          try {
            const cur = JSON.parse(readFileSync(p, 'utf8')) as LockInfo;
            if (cur.pid === process.pid && cur.token === info.token) unlinkSync(p);
          } catch {
            /* gone with the state folder */
          }
        },
      };
    }
    let seen: string;
    try {
      seen = readFileSync(p, 'utf8');
    } catch {
      continue; // released meanwhile: try again
    }
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(seen) as LockInfo;
    } catch {
      holder = undefined; // garbage (a lock is never half-written): stale
    }
    if (holder && holderAlive(holder)) {
      throw new GreenraceError(
        'state.locked',
        `experiment ${exp} is busy: \`${holder.command}\` (pid ${holder.pid}) has been working on it since ${holder.since}`,
        { hint: `wait for it, or interrupt it (Ctrl-C / kill -INT ${holder.pid})` },
      );
    }
    opts.onStale?.(holder);
    breakStaleLock(p, seen);
    if (attempt > 2) pause(5);
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
