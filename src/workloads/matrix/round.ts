/**
 * One round of the latency matrix, the same on hosts and on Kubernetes: its pairs are measured one at
 * a time (side by side they keep the cores busy, so a round trip never waits for an idle CPU to wake:
 * on a quiet 2-core machine 18 µs side by side vs 74 µs for the same pair alone), and each result
 * becomes a row in round trips whatever the tool timed (sockperf's half round trips doubled).
 */
import type { NetToolDef } from '../net/tools/driver.js';
import type { LatencyPercentiles } from '../net/tools/types.js';
import { basisOf, toRoundTrip, type MatrixRow } from './report.js';
import type { Pair } from './schedule.js';

interface PairResult {
  stdout: string;
  result: { latencyMicroseconds?: LatencyPercentiles | null | undefined };
}

export async function measureRound<R extends PairResult>(
  round: Pair[],
  one: (pair: Pair) => Promise<R>,
  signal?: AbortSignal,
): Promise<Array<PromiseSettledResult<R>>> {
  const results: Array<PromiseSettledResult<R>> = [];
  for (const pair of round) {
    if (signal?.aborted) break;
    const [res] = await Promise.allSettled([one(pair)]);
    results.push(res!);
  }
  return results;
}

/** The round's rows (and raw outputs by `origin→destination`). */
export function roundRows(t: NetToolDef, round: Pair[], results: Array<PromiseSettledResult<PairResult>>, raw: Record<string, string>, rows: MatrixRow[]): void {
  results.forEach((res, j) => {
    const pair = round[j]!;
    if (res.status === 'fulfilled') {
      raw[`${pair.origin}→${pair.destination}`] = res.value.stdout;
      const l = res.value.result.latencyMicroseconds;
      rows.push({ origin: pair.origin, destination: pair.destination, latency: l ? toRoundTrip(l, basisOf(t.latencyBasis)) : null, ...(l ? {} : { error: 'no latency in the tool output' }) });
    } else {
      rows.push({ origin: pair.origin, destination: pair.destination, latency: null, error: (res.reason as Error).message });
    }
  });
}
