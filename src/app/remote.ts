/**
 * Commands and file copies on the hosts of a set-up experiment, chosen by role, host name or `all`
 * from its state: what the shell's `hosts()`, `sh()` and `fetch()` use. Per-host failures are data
 * (in the results); an abort kills the remote commands before the promise settles.
 *
 * The shell imports this module at start-up (host selection for completion and argument checks), so
 * the SSH code is loaded on first use.
 */
import { join } from 'node:path';
import { GreenraceError, UsageError } from '../core/errors.js';
import { resultsDir, stateDir } from '../core/paths.js';
import { ROLES, type Host, type Role } from '../core/types.js';
import type { ExecResult } from '../remote/exec.js';
import type { FetchResult } from '../remote/files.js';
import type { SshSession } from '../remote/session.js';
import { readState, type ExperimentState } from './state.js';

export type { ExecResult } from '../remote/exec.js';
export type { FetchResult } from '../remote/files.js';
export type { SshSession } from '../remote/session.js';

/**
 * SSH connections kept open between commands (the shell's): they share the experiment's Ansible
 * control sockets, so `sh()` after a play reuses its connections. Close it with close().
 */
export async function openSession(exp: string): Promise<SshSession> {
  const [{ SshSession }, { controlPathDir }] = await Promise.all([import('../remote/session.js'), import('../ansible/config.js')]);
  return new SshSession({ ansibleControlDir: controlPathDir(stateDir(exp)) });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * The hosts a selection names: a role (`worker`), `all`, a host name, or a list of those, in the
 * order given without duplicates. `hosts` may be a function, called only once the selection is
 * well-formed. A bad selection is a UsageError (remote.bad_hosts) naming what exists.
 */
export function selectHosts(sel: unknown, hosts: Host[] | (() => Host[])): Host[] {
  const items = Array.isArray(sel) ? sel : [sel];
  if (items.length === 0 || items.some((x) => typeof x !== 'string' || x === '')) {
    throw new UsageError('remote.bad_hosts', `expected a role (${ROLES.join(', ')}), "all" or a host name (got ${describe(sel)})`);
  }
  const all = typeof hosts === 'function' ? hosts() : hosts;
  const out: Host[] = [];
  for (const it of items as string[]) {
    let found: Host[];
    if (it === 'all') found = all;
    else if ((ROLES as readonly string[]).includes(it)) found = all.filter((h) => h.roles.includes(it as Role));
    else found = all.filter((h) => h.name === it);
    if (found.length === 0) {
      const roles = [...new Set(all.flatMap((h) => h.roles))];
      throw new UsageError(
        'remote.bad_hosts',
        (ROLES as readonly string[]).includes(it)
          ? `no host has the role ${it} (roles here: ${roles.join(', ')})`
          : `"${it}" is neither a role (${ROLES.join(', ')}, all) nor a host (${all.map((h) => h.name).join(', ')})`,
      );
    }
    for (const h of found) if (!out.includes(h)) out.push(h);
  }
  return out;
}

type SetUpState = ExperimentState & { platform: NonNullable<ExperimentState['platform']> };

function clusterState(exp: string): SetUpState {
  const st = readState(stateDir(exp));
  if (!st || !st.platform || st.platform.hosts.length === 0) {
    throw new GreenraceError('remote.no_cluster', `experiment ${exp} has no cluster${st ? ` (state: ${st.phase})` : ''}`, {
      hint: `run \`entrypoint setup ${exp}\``,
    });
  }
  return st as SetUpState;
}

/** The SSH targets of the selected hosts, with the platform's known_hosts file when it keeps one. */
async function targetsOf(exp: string, sel: unknown) {
  const st = clusterState(exp);
  const hs = selectHosts(sel, st.platform.hosts);
  const { targetFromHost } = await import('../remote/target.js');
  const kh = typeof st.platform.data.knownHosts === 'string' ? st.platform.data.knownHosts : undefined;
  return hs.map((h) => targetFromHost(h, kh ? { knownHostsFile: kh } : {}));
}

export interface ShOptions {
  /** Cancels: the command (its whole process group) is killed on every host, then InterruptedError. */
  signal?: AbortSignal;
  /** Connections to reuse (the shell's session); the experiment's Ansible sockets otherwise. */
  session?: SshSession;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Live output as it arrives. */
  onData?: (host: string, stream: 'stdout' | 'stderr', chunk: string) => void;
}

/** Run one shell command on the selected hosts in parallel; one result per host, in selection order. */
export async function shOnHosts(exp: string, sel: unknown, command: string, opts: ShOptions = {}): Promise<ExecResult[]> {
  if (typeof command !== 'string' || command.trim() === '') throw new UsageError('remote.bad_command', `command must be a non-empty string (got ${describe(command)})`);
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0)) throw new UsageError('remote.bad_timeout', `timeout must be > 0 (got ${opts.timeoutMs} ms)`);
  const targets = await targetsOf(exp, sel);
  const { execMany } = await import('../remote/exec.js');
  return execMany(targets, command, {
    session: opts.session ?? (await openSession(exp)),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.onData ? { onData: opts.onData } : {}),
  });
}

export interface FetchOptions {
  signal?: AbortSignal;
  session?: SshSession;
  /** Where the copies go (`<dir>/<host>/<basename>`); default results/<exp>/fetched/<UTC time>/. */
  dir?: string;
}

/** The default folder of fetched files: results/<exp>/fetched/<YYYYMMDDTHHMMSSZ>. */
export function fetchDir(exp: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(resultsDir(exp), 'fetched', stamp);
}

/** Copy one file from the selected hosts; a host without the file is an error in its result. */
export async function fetchFromHosts(exp: string, sel: unknown, path: string, opts: FetchOptions = {}): Promise<FetchResult[]> {
  if (typeof path !== 'string' || path === '') throw new UsageError('remote.bad_path', `path must be a file path on the hosts (got ${describe(path)})`);
  const targets = await targetsOf(exp, sel);
  const { fetchMany } = await import('../remote/files.js');
  return fetchMany(targets, path, opts.dir ?? fetchDir(exp), {
    session: opts.session ?? (await openSession(exp)),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
