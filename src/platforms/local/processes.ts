/**
 * Processes of the local platform: everything running in a host's namespace (sshd and whatever the
 * services started there), and the SSH control masters Ansible leaves under `<stateDir>/cp/`.
 * A zombie counts as gone (this machine's PID 1 reaps late): read /proc/PID/status, not `kill -0`.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tryRun, sleep } from './run.js';

/** PIDs whose network namespace is `ns` (empty when the namespace does not exist). */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await tryRun('ip', ['netns', 'pids', ns]);
  if (!r.ok) return [];
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** True when the process no longer exists or is a zombie. */
export function isGone(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^State:\s+Z/m.test(status);
  } catch {
    return true;
  }
}

export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** TERM every pid, wait up to `graceMs`, then KILL what remains and wait again. Returns survivors. */
export async function terminate(pids: number[], graceMs = 3000): Promise<number[]> {
  const mine = new Set([process.pid, process.ppid]);
  let left = [...new Set(pids)].filter((p) => !mine.has(p) && !isGone(p));
  for (const p of left) signal(p, 'SIGTERM');
  const waitGone = async (ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (left.length && Date.now() < end) {
      await sleep(50);
      left = left.filter((p) => !isGone(p));
    }
  };
  await waitGone(graceMs);
  if (left.length === 0) return [];
  for (const p of left) signal(p, 'SIGKILL');
  await waitGone(2000);
  return left;
}

/** Kill every process in the namespaces; returns `ns: pid` of those still alive. */
export async function killNamespaces(namespaces: string[], graceMs = 3000): Promise<{ killed: number; survivors: string[] }> {
  const byPid = new Map<number, string>();
  // Processes may fork while being stopped: two passes.
  let killed = 0;
  for (let pass = 0; pass < 2; pass++) {
    byPid.clear();
    for (const ns of namespaces) for (const p of await namespacePids(ns)) if (!isGone(p)) byPid.set(p, ns);
    if (byPid.size === 0) break;
    killed += byPid.size;
    await terminate([...byPid.keys()], graceMs);
  }
  const survivors: string[] = [];
  for (const ns of namespaces) for (const p of await namespacePids(ns)) if (!isGone(p)) survivors.push(`${ns}: pid ${p} (${commOf(p) ?? '?'})`);
  return { killed, survivors };
}

/** PIDs of `ssh` control masters whose socket lies under `dir` (their argv reads `ssh: <path> [mux]`). */
export function controlMasterPids(dir: string): number[] {
  const out: number[] = [];
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.startsWith('ssh: ' + prefix) || (cmd.startsWith('ssh ') && cmd.includes(`ControlPath=${prefix}`))) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * Stop the control masters of `<stateDir>/cp/` (`ssh -O exit`, then a signal to any left) and remove
 * the sockets. Returns what could not be removed.
 */
export async function stopControlMasters(cpDir: string): Promise<{ stopped: number; failed: string[] }> {
  let stopped = 0;
  const failed: string[] = [];
  if (existsSync(cpDir)) {
    for (const name of readdirSync(cpDir)) {
      const sock = join(cpDir, name);
      const r = await tryRun('ssh', ['-F', '/dev/null', '-o', `ControlPath=${sock}`, '-O', 'exit', 'greenrace-control-master'], { timeoutMs: 5000 });
      if (r.ok) stopped++;
      try {
        rmSync(sock, { force: true, recursive: true });
      } catch (e) {
        failed.push(`${sock}: ${(e as Error).message}`);
      }
    }
  }
  const left = await terminate(controlMasterPids(cpDir), 1000);
  for (const p of left) failed.push(`ssh control master pid ${p}`);
  return { stopped, failed };
}
