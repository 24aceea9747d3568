import { RunError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import type { HostExec } from './exec.js';
import type { NetHost } from './types.js';

/** A program started in the background on a host, in its own process group, with a pidfile. */
export interface Background {
  host: NetHost;
  name: string;
  pidfile: string;
  logfile: string;
}

export const netDir = (host: NetHost, sub = 'net'): string => `${host.dataDir.replace(/\/+$/, '')}/${sub}`;

/**
 * Start `command` with setsid (its own process group, so stopping it also stops its children),
 * log and pidfile under the host's data dir; wait until `port` listens (TCP or UDP) when given.
 * Fails with the log's last lines when the program exits at once.
 */
export async function startBackground(
  exec: HostExec,
  host: NetHost,
  name: string,
  command: string,
  opts: { port?: number; waitSeconds?: number; dir?: string; signal?: AbortSignal } = {},
): Promise<Background> {
  const dir = opts.dir ?? netDir(host);
  const pidfile = `${dir}/${name}.pid`;
  const logfile = `${dir}/${name}.log`;
  const wait = Math.round((opts.waitSeconds ?? 10) * 10);
  const script = [
    `mkdir -p ${shq(dir)}`,
    `setsid sh -c ${shq(command)} > ${shq(logfile)} 2>&1 < /dev/null &`,
    `echo $! > ${shq(pidfile)}`,
    `p=$(cat ${shq(pidfile)})`,
    `alive() { [ -d /proc/$p ] && ! grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null; }`,
    opts.port
      ? `for _ in $(seq 1 ${wait}); do ss -H -ltnu "sport = :${opts.port}" 2>/dev/null | grep -q . && exit 0; alive || break; sleep 0.1; done`
      : `sleep 0.2; alive && exit 0`,
    `echo "${name} did not start${opts.port ? ` (nothing listens on port ${opts.port})` : ''}; last log lines:" >&2`,
    `tail -n 15 ${shq(logfile)} >&2`,
    `kill -TERM -- -$p 2>/dev/null; exit 1`,
  ].join('\n');
  const r = await exec.exec(host, script, { timeoutMs: (opts.waitSeconds ?? 10) * 1000 + 15_000, signal: opts.signal });
  if (r.code !== 0) {
    throw new RunError('net.server_start', `${name} failed to start on ${host.name}`, { details: r.stderr.trim().split('\n').slice(-15) });
  }
  return { host, name, pidfile, logfile };
}

/** The shell that stops a background program by its pidfile (TERM to the group, KILL after `grace` s). */
export function stopScript(pidfile: string, grace = 3): string {
  return [
    `pf=${shq(pidfile)}`,
    `[ -f "$pf" ] || exit 0`,
    `p=$(cat "$pf")`,
    `gone() { [ ! -d /proc/$p ] || grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null; }`,
    `kill -TERM -- -$p 2>/dev/null || kill -TERM $p 2>/dev/null`,
    `for _ in $(seq 1 ${grace * 10}); do gone && break; sleep 0.1; done`,
    `gone || kill -KILL -- -$p 2>/dev/null || true`,
    `rm -f "$pf"`,
  ].join('\n');
}

export async function stopBackground(exec: HostExec, bg: Background): Promise<void> {
  await exec.exec(bg.host, stopScript(bg.pidfile), { timeoutMs: 20_000 });
}
