/**
 * One sshd per local host, started inside the host's namespace under its own UTS namespace (so its
 * hostname, and that of every SSH session, is the inventory name), listening on the host address only.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PlatformError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import type { SshPaths } from './keys.js';
import type { LocalHostSlot } from './names.js';
import { commOf, isGone, namespacePids } from './processes.js';
import { mapLimit, run, sleep, tryRun } from './run.js';

export const SSHD = '/usr/sbin/sshd';

export interface SshdFiles {
  config: string;
  pid: string;
  log: string;
}

export function sshdFiles(stateDir: string, host: string): SshdFiles {
  const dir = join(stateDir, 'local', 'sshd');
  return { config: join(dir, `${host}.conf`), pid: join(dir, `${host}.pid`), log: join(dir, `${host}.log`) };
}

export function sshdConfig(address: string, files: SshdFiles, ssh: SshPaths): string {
  return [
    `ListenAddress ${address}`,
    'Port 22',
    `PidFile ${files.pid}`,
    `HostKey ${ssh.hostKey}`,
    'PermitRootLogin prohibit-password',
    `AuthorizedKeysFile ${ssh.authorizedKeys}`,
    // keys live under the state dir, whose parents (e.g. /tmp) may be world-writable
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'MaxStartups 100:30:200',
    'MaxSessions 50',
    '',
  ].join('\n');
}

/** The sshd of a host is running when a live `sshd` process is in its namespace. */
export async function sshdRunning(ns: string): Promise<boolean> {
  for (const p of await namespacePids(ns)) if (!isGone(p) && commOf(p) === 'sshd') return true;
  return false;
}

/** Write the config and start sshd in the namespace (it daemonises; the call returns when it has). */
export async function startSshd(slot: LocalHostSlot, address: string, stateDir: string, ssh: SshPaths): Promise<void> {
  const files = sshdFiles(stateDir, slot.name);
  mkdirSync(join(stateDir, 'local', 'sshd'), { recursive: true, mode: 0o700 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir (tmpfs)
  writeFileAtomic(files.config, sshdConfig(address, files, ssh), 0o600);
  await run('ip', ['netns', 'exec', slot.ns, 'unshare', '--uts', 'sh', '-c', 'hostname "$1" && exec "$2" -f "$3" -E "$4"', 'sh', slot.name, SSHD, files.config, files.log], {
    what: `cannot start sshd on ${slot.name}`,
    code: 'platform.local.sshd_failed',
    timeoutMs: 15_000,
  });
}

/** Arguments for a real SSH connection to a local host (no user config, exact known_hosts). */
export function localSshArgs(ssh: SshPaths, address: string, connectTimeoutS: number): string[] {
  return [
    '-F', '/dev/null',
    '-i', ssh.clientKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${ssh.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    `root@${address}`,
  ];
}

/** `ssh root@address true`: the reachability test used by readiness and `status`. */
export async function sshTrue(ssh: SshPaths, address: string, connectTimeoutS = 3): Promise<{ ok: boolean; detail: string }> {
  const limit = 2 * connectTimeoutS + 5;
  const r = await tryRun('ssh', [...localSshArgs(ssh, address, connectTimeoutS), 'true'], { timeoutMs: limit * 1000 });
  if (r.ok) return { ok: true, detail: 'ssh ok' };
  const last = r.stderr.split('\n').filter((l) => l.trim() && !/timed out after/.test(l)).slice(-1)[0];
  return { ok: false, detail: last ?? (r.exitCode === undefined ? `no answer within ${limit} s` : `ssh exit ${r.exitCode}`) };
}

/** Connect and read the server's identification line: true when an sshd answers `SSH-2.0-...`. */
export function sshBanner(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: timeoutMs });
    let buf = '';
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) done(buf.startsWith('SSH-2.0-'));
      else if (buf.length > 255) done(false);
    });
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
    s.once('end', () => done(false));
  });
}

/**
 * Wait until every host's sshd answers, then prove the whole path with a real SSH `true`.
 * Every host: its identification banner (a socket, no process; polled until `deadlineMs`).
 * Real SSH (key, known_hosts, StrictHostKeyChecking=yes; up to 3 tries): the first host, or all of
 * them with `verify: 'all'`. All sshd share one config template, key and host key, so one login
 * proves the others' authentication; Ansible then logs in to each. Hosts that never answer are
 * named in one PlatformError.
 */
export async function waitForSsh(
  hosts: Array<{ name: string; address: string }>,
  ssh: SshPaths,
  stateDir: string,
  opts: { deadlineMs?: number; signal?: AbortSignal; verify?: 'one' | 'all' } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.deadlineMs ?? 15_000);
  const failures: Array<{ name: string; detail: string }> = [];
  const open = await Promise.all(
    hosts.map(async (h) => {
      while (Date.now() < deadline) {
        if (opts.signal?.aborted) return false;
        if (await sshBanner(h.address, 22, 2000)) return true;
        await sleep(100);
      }
      return false;
    }),
  );
  hosts.forEach((h, i) => {
    if (!open[i]) failures.push({ name: h.name, detail: `sshd did not answer on port 22 within ${Math.round((opts.deadlineMs ?? 15_000) / 1000)} s` });
  });
  const toLogin = hosts.filter((_, i) => open[i]).slice(0, opts.verify === 'all' ? undefined : 1);
  await mapLimit(toLogin, 4, async (h) => {
    if (opts.signal?.aborted) return;
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await sshTrue(ssh, h.address, 5);
      if (r.ok) return;
      last = r.detail;
      await sleep(300);
    }
    failures.push({ name: h.name, detail: `ssh login failed: ${last}` });
  });
  if (opts.signal?.aborted) return;
  if (failures.length) {
    failures.sort((a, b) => a.name.localeCompare(b.name));
    const details: string[] = [];
    for (const f of failures) {
      details.push(`${f.name}: ${f.detail}`);
      const log = sshdFiles(stateDir, f.name).log;
      if (existsSync(log)) for (const l of readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(-3)) details.push(`  sshd: ${l}`);
    }
    throw new PlatformError(
      'platform.local.ssh_unreachable',
      `no SSH answer from ${failures.map((f) => f.name).join(', ')} (local platform)`,
      { hosts: failures.map((f) => f.name), details },
    );
  }
}
