import { constants as osConstants } from 'node:os';
import type { ClientChannel } from 'ssh2';
import { InterruptedError, errorMessage, isGreenraceError } from '../core/errors.js';
import { RemoteError } from './errors.js';
import { connect, type SshConnection } from './connect.js';
import type { SshTarget } from './target.js';

/** What one command did on one host. Per-host failures are data here, not exceptions. */
export interface ExecResult {
  host: string;
  address: string;
  command: string;
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was killed by a signal or never ran. */
  code: number | null;
  /** Signal name when killed by one (e.g. SIGTERM). */
  signal?: string;
  /** Why the command could not run (connection, authentication, host key, timeout). */
  error?: { code: string; message: string };
  /** True when it was cancelled (Ctrl-C, timeout) and its remote process group was killed. */
  cancelled?: boolean;
  /** True when output went over `maxBuffer` and was cut. */
  truncated?: boolean;
  durationMs: number;
}

export interface ExecOptions {
  /** Cancels the command: the channel is closed and the remote process group is killed. */
  signal?: AbortSignal;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Connection timeout (ms) when a connection has to be opened. */
  connectTimeoutMs?: number;
  /** Live output, as it arrives. */
  onData?: (host: string, stream: 'stdout' | 'stderr', chunk: string) => void;
  /** Bytes kept per stream (default 8 MiB). */
  maxBuffer?: number;
}

const MARK = '@@greenrace-pgid ';

/** Quote a string for a POSIX shell. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command as sent: run in its own session (setsid) so that cancelling can kill its whole process
 * group; the group id is announced on the first stderr line and stripped from the output.
 */
export function wrapCommand(command: string): string {
  return `exec setsid -w /bin/sh -c ${shQuote(`printf '${MARK}%s\\n' "$$" >&2; exec /bin/sh -c "$1"`)} gr-sh ${shQuote(command)}`;
}

/**
 * The remote command that kills a process group: TERM, up to 2 s of grace while live (non-zombie)
 * members remain, then KILL.
 */
export function killCommand(pgid: number): string {
  const alive = `ps -eo pgid=,stat= 2>/dev/null | awk -v g=${pgid} '$1==g && $2 !~ /^Z/ {f=1} END {exit !f}'`;
  return (
    `kill -TERM -- -${pgid} 2>/dev/null; i=0; while [ $i -lt 20 ] && ${alive}; do sleep 0.1; i=$((i+1)); done; ` +
    `kill -KILL -- -${pgid} 2>/dev/null; exit 0`
  );
}

const SETSID_SIGNALLED = /^setsid: child \d+ did not exit normally[^\n]*\n?/m;

function signalName(n: number): string | undefined {
  const sigs = osConstants.signals as Record<string, number>;
  return Object.keys(sigs).find((k) => sigs[k] === n);
}

function openExec(conn: SshConnection, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    conn.client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}

/** Run a short command to completion (used for the kill); resolves on close or after `ms`. */
async function runQuiet(conn: SshConnection, command: string, ms: number): Promise<void> {
  let ch: ClientChannel;
  try {
    ch = await openExec(conn, command);
  } catch {
    return;
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      ch.close();
      resolve();
    }, ms);
    ch.on('data', () => undefined);
    ch.stderr.on('data', () => undefined);
    ch.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    ch.end();
  });
}

/** Run one command on an open connection. Rejects only when the channel cannot be opened. */
export async function execOn(conn: SshConnection, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const t = conn.target;
  const started = Date.now();
  const max = opts.maxBuffer ?? 8 * 1024 * 1024;
  const base = { host: t.name, address: t.address, command };
  if (opts.signal?.aborted) {
    return { ...base, stdout: '', stderr: '', code: null, cancelled: true, durationMs: 0 };
  }
  let ch: ClientChannel;
  try {
    ch = await openExec(conn, wrapCommand(command));
  } catch (e) {
    throw new RemoteError('remote.channel', `cannot start a command on ${t.name}: ${errorMessage(e)}`, { hosts: [t.name], cause: e });
  }
  let stdout = '';
  let stderr = '';
  let head = ''; // stderr until the group-id line is seen
  let pgid: number | undefined;
  let truncated = false;
  let cancelled = false;
  let killing: Promise<void> | undefined;
  let onPgid: (() => void) | undefined;
  const append = (cur: string, chunk: string): string => {
    if (cur.length + chunk.length <= max) return cur + chunk;
    truncated = true;
    return cur + chunk.slice(0, Math.max(0, max - cur.length));
  };
  const onStderr = (s: string): void => {
    stderr = append(stderr, s);
    if (s) opts.onData?.(t.name, 'stderr', s);
  };
  return new Promise<ExecResult>((resolve) => {
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    const cancel = (): void => {
      if (cancelled) return;
      cancelled = true;
      killing = (async () => {
        if (pgid === undefined) {
          // The group id comes with the first bytes; wait a little for it before giving up on the kill.
          await new Promise<void>((r) => {
            const tm = setTimeout(r, 2000);
            onPgid = () => {
              clearTimeout(tm);
              r();
            };
          });
        }
        if (pgid !== undefined) await runQuiet(conn, killCommand(pgid), 5000);
        ch.close();
      })();
    };
    const timer = opts.timeoutMs ? setTimeout(cancel, opts.timeoutMs) : undefined;
    const onAbort = (): void => cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ch.setEncoding('utf8');
    ch.stderr.setEncoding('utf8');
    ch.on('data', (s: string) => {
      stdout = append(stdout, s);
      opts.onData?.(t.name, 'stdout', s);
    });
    ch.stderr.on('data', (s: string) => {
      if (pgid !== undefined) return onStderr(s);
      head += s;
      const nl = head.indexOf('\n');
      if (nl < 0) return;
      const first = head.slice(0, nl);
      const rest = head.slice(nl + 1);
      head = '';
      if (first.startsWith(MARK)) {
        pgid = Number(first.slice(MARK.length)) || undefined;
        onPgid?.();
        onStderr(rest);
      } else {
        // No marker: setsid is missing or the login shell printed something first. Keep it all.
        pgid = -1;
        onStderr(first + '\n' + rest);
      }
    });
    ch.on('exit', (code: number | null, sig?: string) => {
      exitCode = code;
      if (sig) exitSignal = sig.startsWith('SIG') ? sig : `SIG${sig}`;
    });
    ch.once('close', () => {
      void (async () => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (killing) await killing;
        if (head) onStderr(head);
        let code = exitCode;
        let sig = exitSignal;
        const m = SETSID_SIGNALLED.exec(stderr);
        if (m && code !== null) {
          // `setsid -w` reports a child killed by a signal with the raw wait status as exit code.
          stderr = stderr.replace(SETSID_SIGNALLED, '');
          sig = signalName(code & 0x7f);
          code = null;
        }
        if (pgid === -1 && /setsid: (not found|command not found)|setsid: No such file/.test(stderr)) {
          // Old host without util-linux setsid: say so, once.
          stderr += '\n(greenrace: this host has no setsid; install util-linux)';
        }
        const r: ExecResult = { ...base, stdout, stderr, code, durationMs: Date.now() - started };
        if (sig) r.signal = sig;
        if (cancelled) r.cancelled = true;
        if (truncated) r.truncated = true;
        if (cancelled && opts.timeoutMs && !opts.signal?.aborted) {
          r.error = { code: 'remote.timeout', message: `${t.name}: command timed out after ${opts.timeoutMs / 1000} s and was killed` };
        }
        resolve(r);
      })();
    });
    ch.end(); // no stdin
  });
}

/** A source of connections: a pool (kept open between calls) or one-shot connections. */
export interface ConnectionSource {
  get(target: SshTarget, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<SshConnection>;
  /** Called after use; one-shot sources close the connection here. */
  release(conn: SshConnection): void;
}

export const oneShot: ConnectionSource = {
  get: (t, o) => connect(t, o),
  release: (c) => c.close(),
};

/** Run a command on one target; never throws for host problems (they land in `error`). */
export async function execTarget(target: SshTarget, command: string, opts: ExecOptions & { source?: ConnectionSource } = {}): Promise<ExecResult> {
  const source = opts.source ?? oneShot;
  const started = Date.now();
  let conn: SshConnection;
  try {
    conn = await source.get(target, { ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: opts.connectTimeoutMs ?? 10_000 });
  } catch (e) {
    const r: ExecResult = { host: target.name, address: target.address, command, stdout: '', stderr: '', code: null, durationMs: Date.now() - started };
    if (e instanceof InterruptedError) r.cancelled = true;
    else r.error = { code: isGreenraceError(e) ? e.code : 'remote.connect', message: errorMessage(e) };
    return r;
  }
  try {
    return await execOn(conn, command, opts);
  } catch (e) {
    return {
      host: target.name,
      address: target.address,
      command,
      stdout: '',
      stderr: '',
      code: null,
      error: { code: isGreenraceError(e) ? e.code : 'remote.channel', message: errorMessage(e) },
      durationMs: Date.now() - started,
    };
  } finally {
    source.release(conn);
  }
}

/**
 * Run one command on many hosts in parallel. Resolves with one result per target, in order.
 * When `signal` aborts, every remote command is killed first, then it rejects with InterruptedError.
 */
export async function execMany(
  targets: SshTarget[],
  command: string,
  opts: ExecOptions & { source?: ConnectionSource; concurrency?: number } = {},
): Promise<ExecResult[]> {
  const limit = Math.max(1, opts.concurrency ?? 32);
  const results: ExecResult[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      results[i] = await execTarget(targets[i]!, command, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, targets.length) }, worker));
  if (opts.signal?.aborted) {
    throw new InterruptedError(`interrupted: "${command}" was stopped on ${targets.map((t) => t.name).join(', ')}`);
  }
  return results;
}
