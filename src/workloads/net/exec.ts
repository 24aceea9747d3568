import type { NetHost } from './types.js';

export interface ExecResult {
  /** Exit code; null when killed by a signal or the timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface ExecOptions {
  /** Kill the command after this many milliseconds (the remote side too, see wrapTimeout). */
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
}

/**
 * How the network workloads reach hosts: run a shell command, fetch a file. The app layer
 * provides one (OpenSSH with connection sharing here; see ssh-exec.ts).
 */
export interface HostExec {
  exec(host: NetHost, command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Copy a remote file to a local path; throws RunError when it is missing. */
  fetch(host: NetHost, remotePath: string, localPath: string, opts?: ExecOptions): Promise<void>;
  close(): Promise<void>;
}
