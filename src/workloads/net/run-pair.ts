import { InterruptedError, RunError } from '../../core/errors.js';
import { startBackground, stopBackground, type Background } from './background.js';
import type { NetDriver, NetParams, PairPlan } from './driver.js';
import type { HostExec } from './exec.js';
import type { NetResult } from './types.js';

export interface PairOutcome {
  result: NetResult;
  /** The client's raw output (saved in the run folder). */
  stdout: string;
  stderr: string;
  /** Epoch seconds of the client's start and end: the measurement window. */
  start: number;
  end: number;
}

/**
 * One measurement: start the server in the background on its host, run the client (with a
 * timeout of the duration plus a margin, enforced on the remote side too), parse its output,
 * and always stop the server, also on failure or abort.
 */
export async function runPair(
  exec: HostExec,
  d: NetDriver,
  p: NetParams,
  plan: PairPlan,
  opts: { signal?: AbortSignal; server?: 'start' | 'running'; tag?: string } = {},
): Promise<PairOutcome> {
  const where = `${d.tool} ${plan.client.name} → ${plan.server.name}`;
  let bg: Background | undefined;
  try {
    if (d.prepare) await d.prepare(exec, p, plan);
    if (opts.server !== 'running') {
      bg = await startBackground(exec, plan.server, `${d.tool}-server${opts.tag ? '-' + opts.tag : ''}`, d.serverCommand(p, plan), {
        port: p.port,
        signal: opts.signal,
      });
    }
    const limit = Math.ceil(p.duration) + 30;
    const cmd = `timeout -k 5 ${limit} ${d.clientCommand(p, plan)}`;
    const start = Date.now() / 1000;
    const r = await exec.exec(plan.client, cmd, { timeoutMs: (limit + 10) * 1000, signal: opts.signal });
    const end = Date.now() / 1000;
    if (opts.signal?.aborted) throw new InterruptedError(`${where}: interrupted`);
    if (r.code === 124 || r.timedOut) throw new RunError('net.client_timeout', `${where}: the client did not finish within ${limit} s`);
    let result: NetResult;
    try {
      result = d.parse(r.stdout, p, where);
    } catch (e) {
      if (e instanceof RunError && r.code !== 0 && r.stderr.trim()) {
        throw new RunError(e.code, `${e.message}`, { details: r.stderr.trim().split('\n').slice(-10), cause: e });
      }
      throw e;
    }
    return { result, stdout: r.stdout, stderr: r.stderr, start, end };
  } finally {
    if (bg) await stopBackground(exec, bg).catch(() => undefined);
  }
}
