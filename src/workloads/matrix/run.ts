import { InterruptedError, RunError } from '../../core/errors.js';
import { startBackground, stopBackground, netDir, type Background } from '../net/background.js';
import type { NetDriver, NetParams } from '../net/driver.js';
import type { HostExec } from '../net/exec.js';
import { runPair } from '../net/run-pair.js';
import type { NetHost } from '../net/types.js';
import type { MatrixRow } from './report.js';
import { isConflictFree, schedule, type MatrixMode } from './schedule.js';

export interface MatrixOptions {
  mode: MatrixMode;
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
export async function measureMatrix(exec: HostExec, hosts: NetHost[], d: NetDriver, p: NetParams, opts: MatrixOptions): Promise<MatrixOutcome> {
  if (hosts.length < 2) throw new RunError('net.matrix.too_few_hosts', `the latency matrix needs at least 2 hosts (got ${hosts.length})`);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const rounds = schedule(hosts.map((h) => h.name), opts.mode);
  if (!isConflictFree(rounds)) throw new Error('internal: latency matrix schedule has a host twice in a round');
  const servers: Background[] = [];
  const rows: MatrixRow[] = [];
  const raw: Record<string, string> = {};
  const start = Date.now() / 1000;
  try {
    const started = await Promise.allSettled(
      hosts.map((h) =>
        startBackground(exec, h, `${d.tool}-matrix-server`, d.serverCommand(p, { server: h, client: h, serverAddress: h.address, clientDir: netDir(h) }), {
          port: p.port,
          signal: opts.signal,
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    const failed = started.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (failed.length) throw failed[0]!;
    for (const [i, round] of rounds.entries()) {
      if (opts.signal?.aborted) throw new InterruptedError('latency matrix interrupted');
      opts.progress?.(`round ${i + 1}/${rounds.length}: ${round.map((x) => `${x.origin}→${x.destination}`).join(' ')}`);
      const results = await Promise.allSettled(
        round.map((pair) => {
          const client = byName.get(pair.origin)!;
          const server = byName.get(pair.destination)!;
          return runPair(exec, d, p, { server, client, serverAddress: server.address, clientDir: netDir(client) }, { signal: opts.signal, server: 'running' });
        }),
      );
      if (opts.signal?.aborted) throw new InterruptedError('latency matrix interrupted');
      results.forEach((res, j) => {
        const pair = round[j]!;
        if (res.status === 'fulfilled') {
          raw[`${pair.origin}→${pair.destination}`] = res.value.stdout;
          rows.push({ origin: pair.origin, destination: pair.destination, latency: res.value.result.latencyMicroseconds });
        } else {
          rows.push({ origin: pair.origin, destination: pair.destination, latency: null, error: (res.reason as Error).message });
        }
      });
    }
  } finally {
    await Promise.all(servers.map((s) => stopBackground(exec, s).catch(() => undefined)));
  }
  if (rows.every((r) => !r.latency)) {
    throw new RunError('net.matrix.all_failed', `every latency measurement failed`, { details: rows.map((r) => `${r.origin}→${r.destination}: ${r.error}`) });
  }
  return { rows, rounds: rounds.length, pairs: rows.length, start, end: Date.now() / 1000, raw };
}
