import { ExitCode, GreenraceError, type ErrorOptions } from '../core/errors.js';

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
