/** Files over the same SSH stack: copy a remote file here (`cat` through ssh), write content there (atomically). */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InterruptedError } from '../core/errors.js';
import { shq } from '../core/shell.js';
import { execTarget, type ExecOptions, type ExecResult } from './exec.js';
import type { SshTarget } from './target.js';

export interface FetchResult {
  host: string;
  remotePath: string;
  /** Where the copy is. */
  localPath?: string;
  bytes?: number;
  error?: { code: string; message: string };
}

export type FileOptions = Pick<ExecOptions, 'signal' | 'session' | 'timeoutMs'>;

const NOT_FOUND = 21;
const IS_DIR = 22;
const UNREADABLE = 23;

/** Copy one remote file to `localPath` (written whole or not at all). Never throws for host problems. */
export async function fetchFile(target: SshTarget, remotePath: string, localPath: string, opts: FileOptions = {}): Promise<FetchResult> {
  const res: FetchResult = { host: target.name, remotePath };
  const p = shq(remotePath);
  const script = `if [ -d ${p} ]; then exit ${IS_DIR}; elif [ ! -e ${p} ]; then exit ${NOT_FOUND}; elif [ ! -r ${p} ]; then exit ${UNREADABLE}; fi; exec cat -- ${p}`;
  mkdirSync(dirname(localPath), { recursive: true });
  const tmp = `${localPath}.${process.pid}.part`;
  let r: ExecResult;
  try {
    r = await execTarget(target, script, { ...opts, timeoutMs: opts.timeoutMs ?? 600_000, stdoutFile: tmp });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    if (r.cancelled && opts.signal?.aborted) res.error = { code: 'run.interrupted', message: `fetch of ${remotePath} from ${target.name} interrupted` };
    else if (r.error) res.error = { code: r.error.code, message: r.error.message };
    else if (r.code === NOT_FOUND) res.error = { code: 'remote.no_such_file', message: `${target.name}: ${remotePath} does not exist` };
    else if (r.code === IS_DIR) res.error = { code: 'remote.is_directory', message: `${target.name}: ${remotePath} is a directory; fetch one file (or tar it with sh first)` };
    else if (r.code === UNREADABLE) res.error = { code: 'remote.permission', message: `${target.name}: permission denied reading ${remotePath}` };
    else res.error = { code: 'remote.fetch', message: `${target.name}: cannot fetch ${remotePath}: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}` };
    return res;
  }
  renameSync(tmp, localPath);
  res.localPath = localPath;
  res.bytes = statSync(localPath).size;
  return res;
}

/** Copy a remote file from every target into `<localDir>/<host>/<basename>`, in parallel. */
export async function fetchMany(targets: SshTarget[], remotePath: string, localDir: string, opts: FileOptions = {}): Promise<FetchResult[]> {
  const name = basename(remotePath) || 'file';
  const results = await Promise.all(targets.map((t) => fetchFile(t, remotePath, join(localDir, t.name, name), opts)));
  if (opts.signal?.aborted) throw new InterruptedError(`interrupted: fetch of ${remotePath} stopped`);
  return results;
}

/**
 * Write `content` to `path` on a host: its folder created, the file replaced atomically (a reader
 * sees the old or the new content), with `mode`. Returns the command's result; `code` 0 is success.
 */
export function putFile(target: SshTarget, path: string, content: string | Uint8Array, opts: FileOptions & { mode?: string } = {}): Promise<ExecResult> {
  const q = shq(path);
  const tmp = shq(`${path}.gr-tmp`);
  const script = `mkdir -p "$(dirname ${q})" && cat > ${tmp} && chmod ${opts.mode ?? '0644'} ${tmp} && mv -f ${tmp} ${q}`;
  return execTarget(target, script, { ...opts, input: content, timeoutMs: opts.timeoutMs ?? 120_000 });
}
