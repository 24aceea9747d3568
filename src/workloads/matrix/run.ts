import { measureRound, roundRows } from './round.js';
import { InterruptedError, RunError } from '../../core/errors.js';
import type { WorkHost as NetHost } from '../../core/types.js';
import type { Executor, Started } from '../../runtimes/executor.js';
import { netDir, type NetParams, type NetToolDef } from '../net/tools/driver.js';
import { runPair } from '../net/tools/run-pair.js';
import type { MatrixRow } from './report.js';
import { isConflictFree, schedule, type MatrixMode } from './schedule.js';

export interface MatrixOptions {
  mode: MatrixMode;
  /** For the random schedule (default Math.random). */
  random?: () => number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface MatrixOutcome {
  rows: MatrixRow[];
  rounds: number;
  pairs: number;
  /** Epoch seconds. */
  start: number;
  end: number;
  /** Raw client outputs by "origin→destination". */
  raw: Record<string, string>;
}

/**
 * Latency between hosts: one latency server per host, started once, then the schedule's rounds
 * one after another; inside a round every pair runs at the same time, and no host is in two
 * pairs of a round. A failed pair becomes a row with its error; the servers are always stopped.
 */
export async function measureMatrix(ex: Executor, hosts: NetHost[], t: NetToolDef, p: NetParams, opts: MatrixOptions): Promise<MatrixOutcome> {
  const d = t.driver;
  if (!d) throw new RunError('net.matrix.tool', `${t.name} cannot measure latency between hosts`);
  if (hosts.length < 2) throw new RunError('net.matrix.too_few_hosts', `the latency matrix needs at least 2 hosts (got ${hosts.length})`);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const rounds = schedule(hosts.map((h) => h.name), opts.mode, opts.random);
  if (!isConflictFree(rounds)) throw new Error('internal: latency matrix schedule has a host twice in a round');
  const servers: Started[] = [];
  const rows: MatrixRow[] = [];
  const raw: Record<string, string> = {};
  const start = Date.now() / 1000;
  try {
    const started = await Promise.allSettled(
      hosts.map((h) =>
        ex.start({
          host: h,
          name: `${t.name}-matrix-server`,
          command: d.serverCommand(p, { server: h, client: h, serverAddress: h.address, clientDir: netDir(h) }),
          port: p.port,
          ...(opts.signal ? { signal: opts.signal } : {}),
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    const failed = started.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (failed.length) throw failed[0]!;
    for (const [i, round] of rounds.entries()) {
      if (opts.signal?.aborted) throw new InterruptedError('latency matrix interrupted');
      opts.progress?.(`round ${i + 1}/${rounds.length}: ${round.map((x) => `${x.origin}→${x.destination}`).join(' ')}`);
      const results = await measureRound(
        round,
        (pair) => {
          const client = byName.get(pair.origin)!;
          const server = byName.get(pair.destination)!;
          return runPair(ex, t, p, { server, client, serverAddress: server.address, clientDir: netDir(client) }, { ...(opts.signal ? { signal: opts.signal } : {}), server: 'running' });
        },
        opts.signal,
      );
      if (opts.signal?.aborted) throw new InterruptedError('latency matrix interrupted');
      roundRows(t, round, results, raw, rows);
    }
  } finally {
    await ex.stop(servers).catch(() => undefined);
  }
  if (rows.every((r) => !r.latency)) {
    throw new RunError('net.matrix.all_failed', `every latency measurement failed`, { details: rows.map((r) => `${r.origin}→${r.destination}: ${r.error}`) });
  }
  return { rows, rounds: rounds.length, pairs: rows.length, start, end: Date.now() / 1000, raw };
}
