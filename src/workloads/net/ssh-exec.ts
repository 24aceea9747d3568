import { RunError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import { execTarget } from '../../remote/exec.js';
import { fetchFile } from '../../remote/files.js';
import { SshSession } from '../../remote/session.js';
import { targetFromHost, type TargetDefaults } from '../../remote/target.js';
import type { ExecOptions, ExecResult, HostExec } from './exec.js';
import type { NetHost } from './types.js';

/**
 * Runs commands on hosts through the SSH stack (src/remote), one shared connection per host.
 * Authentication comes from the host entry (user, port, key file, ansible_ssh_common_args),
 * exactly as Ansible uses it; with the experiment's Ansible control folder the connections are
 * Ansible's own.
 */
export class SshExec implements HostExec {
  private readonly session: SshSession;

  constructor(opts: { ansibleControlDir?: string; defaults?: TargetDefaults } = {}) {
    this.session = new SshSession(opts.ansibleControlDir ? { ansibleControlDir: opts.ansibleControlDir } : {});
    this.defaults = opts.defaults ?? {};
  }

  private readonly defaults: TargetDefaults;

  async exec(host: NetHost, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await execTarget(targetFromHost(host, this.defaults), command, {
      session: this.session,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
    if (r.error && !r.timedOut) {
      throw new RunError('net.ssh_failed', `cannot reach ${host.name} (${host.address}) over ssh: ${r.error.message}`, r.error.hint ? { hint: r.error.hint } : {});
    }
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: Boolean(r.timedOut), durationMs: r.durationMs };
  }

  async fetch(host: NetHost, remotePath: string, localPath: string, opts: ExecOptions = {}): Promise<void> {
    const r = await fetchFile(targetFromHost(host, this.defaults), remotePath, localPath, {
      session: this.session,
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (r.error) throw new RunError('net.fetch_failed', `cannot copy ${remotePath} from ${host.name}: ${r.error.message}`);
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/** Write a small file on a host through the shell (contents via stdin, so any bytes are safe). */
export async function putFile(exec: HostExec, host: NetHost, path: string, content: string, mode = '0644'): Promise<void> {
  const q = shq(path);
  const r = await exec.exec(host, `mkdir -p "$(dirname ${q})" && cat > ${q} && chmod ${mode} ${q}`, { input: content });
  if (r.code !== 0) throw new RunError('net.put_failed', `cannot write ${path} on ${host.name}: ${r.stderr.trim()}`);
}
