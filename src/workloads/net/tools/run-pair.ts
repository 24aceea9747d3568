import { InterruptedError, RunError } from '../../../core/errors.js';
import type { Executor, Started } from '../../../runtimes/executor.js';
import type { NetParams, NetToolDef, PairPlan } from './driver.js';
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
  ex: Executor,
  tool: NetToolDef,
  p: NetParams,
  plan: PairPlan,
  opts: { signal?: AbortSignal; server?: 'start' | 'running'; tag?: string } = {},
): Promise<PairOutcome> {
  const d = tool.driver;
  if (!d) throw new RunError('net.not_a_measuring_tool', `${tool.name} does not measure between a client and a server`);
  const where = `${tool.name} ${plan.client.name} → ${plan.server.name}`;
  let bg: Started | undefined;
  try {
    if (d.prepare) await d.prepare(ex, p, plan);
    if (opts.server !== 'running') {
      const name = `${tool.name}-server${opts.tag ? '-' + opts.tag : ''}`;
      bg = await ex.start({ host: plan.server, name, command: d.serverCommand(p, plan), port: p.port, ...(opts.signal ? { signal: opts.signal } : {}) });
    }
    const limit = Math.ceil(p.duration) + 30;
    const cmd = `timeout -k 5 ${limit} ${d.clientCommand(p, plan)}`;
    const start = Date.now() / 1000;
    const r = await ex.run(plan.client, cmd, { timeoutMs: (limit + 10) * 1000, ...(opts.signal ? { signal: opts.signal } : {}) });
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
    if (bg) await ex.stop(bg).catch(() => undefined);
  }
}
