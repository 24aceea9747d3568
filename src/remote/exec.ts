import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { InterruptedError } from '../core/errors.js';
import { shq } from '../core/shell.js';
import { sshFailure } from './errors.js';
import { SshSession } from './session.js';
import type { SshTarget } from './target.js';

/** What one command did on one host. Per-host failures are data here, not exceptions. */
export interface ExecResult {
  host: string;
  address: string;
  command: string;
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was killed by a signal, timed out or never ran. */
  code: number | null;
  /** Signal name when killed by one (e.g. SIGTERM). */
  signal?: string;
  /** Why the command could not run (connection, authentication, host key) or was stopped (timeout). */
  error?: { code: string; message: string; hint?: string };
  /** True when it was cancelled (abort, timeout) and its remote process group was killed. */
  cancelled?: boolean;
  /** True when it outlived `timeoutMs` (and was killed). */
  timedOut?: boolean;
  /** True when output went over `maxBuffer` and was cut. */
  truncated?: boolean;
  durationMs: number;
}

export interface ExecOptions {
  /** Cancels the command: its remote process group is killed, then the local ssh. */
  signal?: AbortSignal;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Live output, as it arrives. */
  onData?: (host: string, stream: 'stdout' | 'stderr', chunk: string) => void;
  /** Given to the command's stdin (then closed); without it stdin is empty. */
  input?: string | Uint8Array;
  /** Bytes kept per stream (default 8 MiB). */
  maxBuffer?: number;
  /** Connections shared between commands; without it, one private session for this call. */
  session?: SshSession;
  /** Write stdout (bytes) to this file instead of keeping it (fetch). */
  stdoutFile?: string;
}

const MARK = '@@greenrace-pgid ';
/** How long a cancel waits for the remote group id of a command whose ssh is still connecting. */
const PGID_WAIT_MS = 30_000;

/**
 * The command as sent: run in its own session (setsid) so that cancelling can kill its whole process
 * group; the group id is announced on the first stderr line and stripped from the output. The
 * command itself runs in the user's login shell, as `ssh host command` runs it.
 */
export function wrapCommand(command: string): string {
  return `exec setsid -w /bin/sh -c ${shq(`printf '${MARK}%s\\n' "$$" >&2; exec "\${SHELL:-/bin/sh}" -c "$1"`)} gr-sh ${shq(command)}`;
}

/**
 * The remote command that kills a process group: TERM, up to 2 s of grace while live (non-zombie)
 * members remain, then KILL.
 */
export function killCommand(pgid: number): string {
  // Never a signal to everything: only a real process group.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`internal: refusing to kill process group ${pgid}`);
  const alive = `ps -eo pgid=,stat= 2>/dev/null | awk -v g=${pgid} '$1==g && $2 !~ /^Z/ {f=1} END {exit !f}'`;
  return (
    `kill -TERM -${pgid} 2>/dev/null; i=0; while [ $i -lt 20 ] && ${alive}; do sleep 0.1; i=$((i+1)); done; ` +
    `kill -KILL -${pgid} 2>/dev/null; exit 0`
  );
}

const SETSID_SIGNALLED = /^setsid: child \d+ did not exit normally[^\n]*\n?/m;

function signalName(n: number): string | undefined {
  const sigs = osConstants.signals as Record<string, number>;
  return Object.keys(sigs).find((k) => sigs[k] === n);
}

/** Run ssh for `remote` (already wrapped) and wait for it; a small command, its output ignored. */
function runQuiet(session: SshSession, t: SshTarget, remote: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn('ssh', session.argv(t, remote), { stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('close', () => (clearTimeout(timer), resolve()));
    p.once('error', () => (clearTimeout(timer), resolve()));
  });
}

interface Collected {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Run one command on one target; never throws for host problems (they land in `error`). */
export async function execTarget(target: SshTarget, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const own = opts.session ? undefined : new SshSession();
  try {
    return await execWith(opts.session ?? own!, target, command, opts);
  } finally {
    await own?.close();
  }
}

/** ssh's own notes about connection sharing (two commands racing to open it): not the command's output. */
const MUX_NOTE = /^(ControlSocket .* already exists, disabling multiplexing|mux_client_[^\n]*)\r?\n/gm;

async function execWith(session: SshSession, t: SshTarget, command: string, opts: ExecOptions): Promise<ExecResult> {
  const opened = await session.firstUse(t);
  try {
    return await execOnce(session, t, command, opts, opened);
  } finally {
    opened();
  }
}

function execOnce(session: SshSession, t: SshTarget, command: string, opts: ExecOptions, opened: () => void): Promise<ExecResult> {
  const started = Date.now();
  const max = opts.maxBuffer ?? 8 * 1024 * 1024;
  const base = { host: t.name, address: t.address, command };
  if (opts.signal?.aborted) return Promise.resolve({ ...base, stdout: '', stderr: '', code: null, cancelled: true, durationMs: 0 });
  const out: Collected = { stdout: '', stderr: '', truncated: false };
  const append = (cur: string, chunk: string): string => {
    if (cur.length + chunk.length <= max) return cur + chunk;
    out.truncated = true;
    return cur + chunk.slice(0, Math.max(0, max - cur.length));
  };
  return new Promise<ExecResult>((resolve) => {
    const child = spawn('ssh', session.argv(t, wrapCommand(command)), { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let file: WriteStream | undefined;
    if (opts.stdoutFile) {
      file = createWriteStream(opts.stdoutFile);
      child.stdout!.pipe(file);
    } else {
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (s: string) => {
        out.stdout = append(out.stdout, s);
        opts.onData?.(t.name, 'stdout', s);
      });
    }
    let head = ''; // stderr until the group-id line is seen
    let pgid: number | undefined;
    let cancelled = false;
    let timedOut = false;
    let killing: Promise<void> | undefined;
    let onPgid: (() => void) | undefined;
    let closed = false;
    let onClosed: (() => void) | undefined;
    const onStderr = (s: string): void => {
      out.stderr = append(out.stderr, s);
      if (s) opts.onData?.(t.name, 'stderr', s);
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (pgid !== undefined) return onStderr(s);
      // Until the group-id line arrives (ssh's own messages may come first), stderr is held back.
      head += s;
      const i = head.indexOf(MARK);
      const end = i < 0 ? -1 : head.indexOf('\n', i);
      if (end < 0) return;
      pgid = Number(head.slice(i + MARK.length, end)) || -1;
      const rest = (head.slice(0, i) + head.slice(end + 1)).replace(MUX_NOTE, '');
      head = '';
      opened();
      onPgid?.();
      onStderr(rest);
    });
    const cancel = (): void => {
      if (cancelled) return;
      cancelled = true;
      killing = (async () => {
        if (pgid === undefined && !closed) {
          // The group id is the remote command's first line: until it arrives ssh is still connecting
          // (slow on a loaded machine). Killing ssh now would leave the command running remotely, so
          // wait for it as long as ssh itself may still connect (its ConnectTimeout, plus a margin),
          // or until ssh ends without it (the command never started).
          await new Promise<void>((r) => {
            const tm = setTimeout(r, PGID_WAIT_MS);
            onPgid = () => (clearTimeout(tm), r());
            onClosed = onPgid;
          });
        }
        if (pgid !== undefined && pgid > 1) await runQuiet(session, t, killCommand(pgid), 8000);
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        child.kill('SIGTERM');
      })();
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          cancel();
        }, opts.timeoutMs)
      : undefined;
    const onAbort = (): void => cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
    let spawnError: Error | undefined;
    child.once('error', (e) => (spawnError = e));
    child.once('close', (exit: number | null) => {
      closed = true;
      onClosed?.();
      void (async () => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (killing) await killing;
        if (file) await new Promise<void>((r) => (file!.writableFinished ? r() : file!.once('finish', () => r())));
        if (head) onStderr(head.replace(MUX_NOTE, ''));
        let code: number | null = cancelled ? null : exit;
        let sig: string | undefined;
        const m = SETSID_SIGNALLED.exec(out.stderr);
        if (m && exit !== null) {
          // `setsid -w` reports a child killed by a signal with the signal number as its exit code.
          out.stderr = out.stderr.replace(SETSID_SIGNALLED, '');
          sig = signalName(exit & 0x7f);
          code = null;
        }
        const r: ExecResult = { ...base, stdout: out.stdout, stderr: out.stderr, code, durationMs: Date.now() - started };
        if (spawnError) r.error = { code: 'remote.no_ssh', message: `cannot run ssh on this machine: ${spawnError.message}` };
        else if (pgid === undefined && exit === 255 && !cancelled) {
          r.error = sshFailure(t, out.stderr);
          r.code = null;
        } else if (pgid === undefined && /setsid: (not found|command not found)|setsid: No such file/.test(out.stderr)) {
          r.stderr += '\n(greenrace: this host has no setsid; install util-linux)';
        }
        if (sig) r.signal = sig;
        if (cancelled) r.cancelled = true;
        if (timedOut) {
          r.timedOut = true;
          if (!opts.signal?.aborted) r.error = { code: 'remote.timeout', message: `${t.name}: command timed out after ${(opts.timeoutMs ?? 0) / 1000} s and was killed` };
        }
        if (out.truncated) r.truncated = true;
        resolve(r);
      })();
    });
  });
}

/**
 * Run one command on many hosts in parallel. Resolves with one result per target, in order.
 * When `signal` aborts, every remote command is killed first, then it rejects with InterruptedError.
 */
export async function execMany(targets: SshTarget[], command: string, opts: ExecOptions & { concurrency?: number } = {}): Promise<ExecResult[]> {
  const own = opts.session ? undefined : new SshSession();
  const session = opts.session ?? own!;
  const limit = Math.max(1, opts.concurrency ?? 32);
  const results: ExecResult[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      results[i] = await execWith(session, targets[i]!, command, opts);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, targets.length) }, worker));
  } finally {
    await own?.close();
  }
  if (opts.signal?.aborted) {
    throw new InterruptedError(`interrupted: "${command}" was stopped on ${targets.map((t) => t.name).join(', ')}`);
  }
  return results;
}
