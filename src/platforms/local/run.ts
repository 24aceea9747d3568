/** Running the system tools of the local platform (`ip`, `ssh`, `ssh-keygen`, `unshare`) through execa. */
import { execa } from 'execa';
import { PlatformError } from '../../core/errors.js';

export interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Run a command; never throws for a non-zero exit (see `ok`). */
export async function tryRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await execa(cmd, args, {
    reject: false,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    ...(opts.input === undefined ? {} : { input: opts.input }),
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
    stripFinalNewline: true,
  });
  const stdout = typeof r.stdout === 'string' ? r.stdout : '';
  let stderr = typeof r.stderr === 'string' ? r.stderr : '';
  if (r.failed && stderr === '' && r.exitCode === undefined) stderr = r.shortMessage ?? 'failed';
  return { ok: !r.failed, stdout, stderr, exitCode: r.exitCode };
}

/** Run a command; a failure becomes one PlatformError naming the command and its stderr. */
export async function run(cmd: string, args: string[], opts: RunOptions & { code?: string; what?: string } = {}): Promise<string> {
  const r = await tryRun(cmd, args, opts);
  if (!r.ok) {
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '').slice(-20);
    throw new PlatformError(
      opts.code ?? 'platform.local.command_failed',
      `${opts.what ?? 'command failed'}: ${cmd} ${args.join(' ')}${lines.length ? '' : ` (exit ${r.exitCode ?? 'signal'})`}`,
      { details: lines },
    );
  }
  return r.stdout;
}

/** Map with at most `limit` promises in flight (2-core machine: do not fork 50 ssh at once). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
