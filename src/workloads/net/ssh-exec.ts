import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { RunError } from '../../core/errors.js';
import type { ExecOptions, ExecResult, HostExec } from './exec.js';
import type { NetHost } from './types.js';

/** Split an ansible_ssh_common_args string into argv (handles simple single/double quotes). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/**
 * Runs commands on hosts with the OpenSSH client, one shared connection per host
 * (ControlMaster in a private directory, closed by close()). Authentication comes from the host
 * entry (user, port, key file, ansible_ssh_common_args), exactly as Ansible would use it.
 */
export class SshExec implements HostExec {
  private readonly controlDir: string;
  private readonly used = new Set<string>();

  constructor(controlDir?: string) {
    // Control sockets need a short path (sun_path is 108 bytes).
    this.controlDir = controlDir ?? mkdtempSync(join(tmpdir(), 'grn-'));
    mkdirSync(this.controlDir, { recursive: true, mode: 0o700 });
  }

  sshArgs(host: NetHost): string[] {
    const args = [
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=10',
      '-o', 'ServerAliveInterval=5',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.controlDir}/%C`,
      '-o', 'ControlPersist=120',
      '-p', String(host.port || 22),
    ];
    if (host.keyFile) args.push('-i', host.keyFile);
    const common = host.vars?.['ansible_ssh_common_args'];
    if (typeof common === 'string') args.push(...splitArgs(common));
    args.push(`${host.user || 'root'}@${host.address}`);
    return args;
  }

  async exec(host: NetHost, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.used.add(host.name);
    const t0 = Date.now();
    const r = await execa('ssh', [...this.sshArgs(host), '--', command], {
      reject: false,
      timeout: opts.timeoutMs,
      cancelSignal: opts.signal,
      input: opts.input,
      stdin: opts.input === undefined ? 'ignore' : undefined,
      stripFinalNewline: false,
      forceKillAfterDelay: 2000,
    });
    if (r.exitCode === 255 && /^ssh: |Permission denied|Connection (refused|timed out|closed)|Could not resolve/m.test(r.stderr)) {
      throw new RunError('net.ssh_failed', `cannot reach ${host.name} (${host.address}) over ssh: ${r.stderr.trim().split('\n').pop()}`);
    }
    return {
      code: r.isCanceled || r.timedOut ? null : (r.exitCode ?? null),
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      timedOut: Boolean(r.timedOut),
      durationMs: Date.now() - t0,
    };
  }

  async fetch(host: NetHost, remotePath: string, localPath: string, opts: ExecOptions = {}): Promise<void> {
    this.used.add(host.name);
    const r = await execa('ssh', [...this.sshArgs(host), '--', `cat -- '${remotePath.replace(/'/g, `'\\''`)}'`], {
      reject: false,
      encoding: 'buffer',
      timeout: opts.timeoutMs ?? 120_000,
      cancelSignal: opts.signal,
      stdin: 'ignore',
    });
    if (r.exitCode !== 0) {
      const err = Buffer.from(r.stderr as Uint8Array).toString('utf8').trim();
      throw new RunError('net.fetch_failed', `cannot copy ${remotePath} from ${host.name}: ${err || `exit ${r.exitCode}`}`);
    }
    mkdirSync(dirname(localPath), { recursive: true });
    writeFileSync(localPath, r.stdout as Uint8Array);
  }

  async close(): Promise<void> {
    // One `ssh -O exit` per control socket; the sockets are named by hash, so close them all.
    let socks: string[] = [];
    try {
      socks = readdirSync(this.controlDir);
    } catch {
      socks = [];
    }
    await Promise.all(
      socks.map((s) => execa('ssh', ['-o', `ControlPath=${join(this.controlDir, s)}`, '-O', 'exit', 'x'], { reject: false, timeout: 5000 })),
    );
    rmSync(this.controlDir, { recursive: true, force: true });
    this.used.clear();
  }
}

/** Write a small file on a host through the shell (contents via stdin, so any bytes are safe). */
export async function putFile(exec: HostExec, host: NetHost, path: string, content: string, mode = '0644'): Promise<void> {
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  const r = await exec.exec(host, `mkdir -p "$(dirname ${q})" && cat > ${q} && chmod ${mode} ${q}`, { input: content });
  if (r.code !== 0) throw new RunError('net.put_failed', `cannot write ${path} on ${host.name}: ${r.stderr.trim()}`);
}

