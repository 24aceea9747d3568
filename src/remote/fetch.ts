import { mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { InterruptedError, errorMessage, isGreenraceError } from '../core/errors.js';
import type { SshConnection } from './connect.js';
import { oneShot, type ConnectionSource } from './exec.js';
import type { SshTarget } from './target.js';

export interface FetchResult {
  host: string;
  remotePath: string;
  /** Where the copy is: `<localDir>/<host>/<basename>`. */
  localPath?: string;
  bytes?: number;
  error?: { code: string; message: string };
}

export interface FetchOptions {
  signal?: AbortSignal;
  source?: ConnectionSource;
  connectTimeoutMs?: number;
}

function openSftp(conn: SshConnection): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => conn.client.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

function sftpError(e: unknown, host: string, path: string): { code: string; message: string } {
  const code = (e as { code?: number }).code;
  if (code === 2) return { code: 'remote.no_such_file', message: `${host}: ${path} does not exist` };
  if (code === 3) return { code: 'remote.permission', message: `${host}: permission denied reading ${path}` };
  return { code: 'remote.sftp', message: `${host}: cannot fetch ${path}: ${errorMessage(e)}` };
}

/** Copy one remote file from one host over SFTP. Never throws for host problems. */
export async function fetchFrom(target: SshTarget, remotePath: string, localDir: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const source = opts.source ?? oneShot;
  const res: FetchResult = { host: target.name, remotePath };
  let conn: SshConnection;
  try {
    conn = await source.get(target, { ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: opts.connectTimeoutMs ?? 10_000 });
  } catch (e) {
    res.error = { code: isGreenraceError(e) ? e.code : 'remote.connect', message: errorMessage(e) };
    return res;
  }
  const dir = join(localDir, target.name);
  const local = join(dir, basename(remotePath) || 'file');
  let sftp: SFTPWrapper | undefined;
  try {
    sftp = await openSftp(conn);
    const s = sftp;
    const st = await new Promise<{ isDirectory(): boolean; size: number }>((resolve, reject) =>
      s.stat(remotePath, (err, stats) => (err ? reject(err) : resolve(stats))),
    );
    if (st.isDirectory()) {
      res.error = { code: 'remote.is_directory', message: `${target.name}: ${remotePath} is a directory; fetch one file (or tar it with sh first)` };
      return res;
    }
    mkdirSync(dir, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        s.end();
        reject(new InterruptedError(`fetch of ${remotePath} from ${target.name} interrupted`));
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      s.fastGet(remotePath, local, (err) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      });
    });
    res.localPath = local;
    res.bytes = statSync(local).size;
  } catch (e) {
    rmSync(local, { force: true });
    if (e instanceof InterruptedError) res.error = { code: e.code, message: e.message };
    else res.error = sftpError(e, target.name, remotePath);
  } finally {
    sftp?.end();
    source.release(conn);
  }
  return res;
}

/** Copy a remote file from every target into `<localDir>/<host>/`, in parallel. */
export async function fetchMany(targets: SshTarget[], remotePath: string, localDir: string, opts: FetchOptions = {}): Promise<FetchResult[]> {
  const results = await Promise.all(targets.map((t) => fetchFrom(t, remotePath, localDir, opts)));
  if (opts.signal?.aborted) throw new InterruptedError(`interrupted: fetch of ${remotePath} stopped`);
  return results;
}
