import { describe, expect, it } from 'vitest';
import { isConflictFree, roundRobin, schedule } from '../../../src/workloads/matrix/schedule.js';
import { matrixCsv, matrixGauges } from '../../../src/workloads/matrix/report.js';

const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `worker-${i + 1}`);

describe('latency matrix schedule', () => {
  for (const n of [2, 3, 4, 5, 12]) {
    it(`all-pairs on ${n} hosts: every ordered pair once, no host twice in a round`, () => {
      const rounds = schedule(hosts(n), 'all-pairs');
      const pairs = rounds.flat().map((p) => `${p.origin}>${p.destination}`);
      expect(pairs).toHaveLength(n * (n - 1));
      expect(new Set(pairs).size).toBe(n * (n - 1));
      expect(pairs.every((p) => p.split('>')[0] !== p.split('>')[1])).toBe(true);
      expect(isConflictFree(rounds)).toBe(true);
      expect(rounds).toHaveLength(n % 2 === 0 ? 2 * (n - 1) : 2 * n);
    });
    it(`ring on ${n} hosts: each host to the next, ${n % 2 === 0 || n === 2 ? 2 : 3} rounds`, () => {
      const rounds = schedule(hosts(n), 'ring');
      const pairs = rounds.flat();
      expect(pairs).toHaveLength(n);
      expect(new Set(pairs.map((p) => p.origin)).size).toBe(n);
      expect(new Set(pairs.map((p) => p.destination)).size).toBe(n);
      expect(isConflictFree(rounds)).toBe(true);
      expect(rounds.length).toBe(n % 2 === 0 || n === 2 ? 2 : 3);
    });
  }
  it('round robin of 4 gives 3 rounds of 2 disjoint games', () => {
    const rr = roundRobin(['a', 'b', 'c', 'd']);
    expect(rr).toHaveLength(3);
    for (const r of rr) expect(new Set(r.flat()).size).toBe(4);
  });
  it('detects a conflicting schedule', () => {
    expect(isConflictFree([[{ origin: 'a', destination: 'b' }, { origin: 'b', destination: 'c' }]])).toBe(false);
  });
});

describe('latency matrix CSV and gauges', () => {
  const rows = [
    { origin: 'worker-1', destination: 'worker-2', latency: { p50: 159, p90: 203, p99: 318.5 } },
    { origin: 'worker-2', destination: 'worker-1', latency: null, error: 'refused' },
  ];
  it('has the columns of the netperf-to-Prometheus document and skips failed pairs', () => {
    expect(matrixCsv(rows, 'netperf')).toBe(
      'origin,destination,netperf_p50_latency_microseconds,netperf_p90_latency_microseconds,netperf_p99_latency_microseconds\n' +
        'worker-1,worker-2,159,203,318.5\n',
    );
  });
  it('three gauges per measured pair, origin/destination labels with unchanged values', () => {
    const g = matrixGauges(rows, 'netperf', 'sockperf');
    expect(g.map((x) => x.name)).toEqual(['netperf_p50_latency_microseconds', 'netperf_p90_latency_microseconds', 'netperf_p99_latency_microseconds']);
    expect(g[2]).toMatchObject({ value: 318.5, labels: { origin: 'worker-1', destination: 'worker-2', tool: 'sockperf' } });
  });
});
