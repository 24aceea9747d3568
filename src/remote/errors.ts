import { ExitCode, GreenraceError, type ErrorOptions } from '../core/errors.js';
import type { SshTarget } from './target.js';

/**
 * SSH to a host failed: connection, authentication, host key, or a channel. Names the host.
 * Exit code 3 (the hosts are the problem, as with a platform error).
 */
export class RemoteError extends GreenraceError {
  readonly hosts: string[];
  constructor(code: string, message: string, opts: ErrorOptions & { hosts?: string[] } = {}) {
    super(code, message, { exitCode: ExitCode.platform, ...opts });
    this.hosts = opts.hosts ?? [];
  }
}

function describe(t: SshTarget): string {
  return `${t.user}@${t.address}:${t.port}` + (t.jump ? ` via ${t.jump.address}` : '');
}

/** Why ssh itself failed (exit 255 before the command started), from its stderr, naming the host. */
export function sshFailure(t: SshTarget, stderr: string): { code: string; message: string; hint?: string } {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines.at(-1) ?? 'ssh exited with 255';
  const where = `${t.name} (${describe(t)})`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
    return { code: 'remote.host_key', message: `host key of ${where} does not match ${t.knownHostsFile ?? 'known_hosts'} (the host was replaced, or someone is in the middle)` };
  }
  if (/No [\w-]+ host key is known|Host key verification failed/i.test(stderr)) {
    return { code: 'remote.host_key', message: `host key of ${where} refused: not listed in ${t.knownHostsFile ?? 'known_hosts'} under strict checking` };
  }
  if (/Permission denied/i.test(stderr)) {
    return {
      code: 'remote.auth',
      message: `SSH authentication to ${where} failed`,
      hint: t.keyFile ? `is the public key of ${t.keyFile} in the host's authorized_keys?` : 'give the host a key file, or load a key into ssh-agent',
    };
  }
  if (/timed out/i.test(stderr)) return { code: 'remote.timeout', message: `SSH to ${where} timed out: ${last}` };
  const errno = /Connection refused/i.test(stderr)
    ? ' (ECONNREFUSED)'
    : /Could not resolve hostname/i.test(stderr)
      ? ' (ENOTFOUND)'
      : /No route to host/i.test(stderr)
        ? ' (EHOSTUNREACH)'
        : '';
  return { code: 'remote.connect', message: `cannot reach ${where} over SSH: ${last}${errno}` };
}
