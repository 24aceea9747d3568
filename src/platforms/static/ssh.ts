/** Reachability of existing hosts: a real `ssh ... true` with the same options Ansible will use. */
import { execa } from 'execa';
import type { Host } from '../../core/types.js';

/** Split a command-line fragment the way a POSIX shell (and Ansible's shlex) would, quotes included. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'") {
      if (c === "'") q = null;
      else cur += c;
    } else if (q === '"') {
      if (c === '"') q = null;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

/**
 * ssh argv for a host: the inventory's own options come first (ssh keeps the first value of an
 * option), then BatchMode, the timeout, and accept-new for hosts never seen before.
 */
export function sshArgsFor(h: Host, connectTimeoutS: number): string[] {
  const args: string[] = [];
  const common = h.vars?.ansible_ssh_common_args;
  if (typeof common === 'string') args.push(...splitArgs(common));
  const extra = h.vars?.ansible_ssh_extra_args;
  if (typeof extra === 'string') args.push(...splitArgs(extra));
  if (h.keyFile) args.push('-i', h.keyFile);
  args.push(
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', 'LogLevel=ERROR',
    '-p', String(h.port),
    '-l', h.user,
    h.address,
  );
  return args;
}

export async function probe(h: Host, connectTimeoutS: number): Promise<{ ok: boolean; detail: string }> {
  const r = await execa('ssh', [...sshArgsFor(h, connectTimeoutS), 'true'], {
    reject: false,
    stdin: 'ignore',
    // a jump host adds its own connect: allow two timeouts plus slack
    timeout: (2 * connectTimeoutS + 5) * 1000,
  });
  if (!r.failed) return { ok: true, detail: 'ssh ok' };
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  const last = stderr.split('\n').filter((l) => l.trim()).slice(-1)[0];
  return { ok: false, detail: last ?? (r.timedOut ? `no answer within ${2 * connectTimeoutS + 5} s` : `ssh exit ${r.exitCode ?? '?'}`) };
}
