import { describe, expect, it } from 'vitest';
import { isConflictFree, roundRobin, schedule } from '../../../src/workloads/matrix/schedule.js';
import { matrixCsv, matrixGauges, toRoundTrip } from '../../../src/workloads/matrix/report.js';
import { netperf } from '../../../src/workloads/net/tools/netperf/index.js';
import { netSchema } from '../../../src/workloads/net/schema.js';

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
  for (const n of [2, 3, 4, 7]) {
    it(`random on ${n} hosts: each host once as origin, to another host, no host twice in a round`, () => {
      let seed = 7;
      const rng = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
      for (let k = 0; k < 20; k++) {
        const rounds = schedule(hosts(n), 'random', rng);
        const pairs = rounds.flat();
        expect(pairs.map((p) => p.origin).sort()).toEqual(hosts(n).sort());
        expect(pairs.every((p) => p.origin !== p.destination && hosts(n).includes(p.destination))).toBe(true);
        expect(isConflictFree(rounds)).toBe(true);
      }
    });
  }
  it('random draws differ between matrices (not a fixed ring)', () => {
    const draws = new Set(Array.from({ length: 30 }, () => JSON.stringify(schedule(hosts(5), 'random'))));
    expect(draws.size).toBeGreaterThan(1);
  });
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
  it('has the columns of the netperf-to-Prometheus document, then tool and what was timed, and skips failed pairs', () => {
    expect(matrixCsv(rows, 'netperf', 'netperf', 'round_trip')).toBe(
      'origin,destination,netperf_p50_latency_microseconds,netperf_p90_latency_microseconds,netperf_p99_latency_microseconds,tool,latency\n' +
        'worker-1,worker-2,159,203,318.5,netperf,round_trip\n',
    );
  });
  it('three gauges per measured pair, labelled origin, destination, tool, unit and latency basis', () => {
    const g = matrixGauges(rows, 'netperf', 'netperf', 'round_trip');
    expect(g.map((x) => x.name)).toEqual(['netperf_p50_latency_microseconds', 'netperf_p90_latency_microseconds', 'netperf_p99_latency_microseconds']);
    expect(g[2]).toMatchObject({ value: 318.5, labels: { origin: 'worker-1', destination: 'worker-2', tool: 'netperf', unit: 'microseconds', latency: 'round_trip' } });
    expect(g[0]!.help).toBe('50th percentile of the netperf request/response round trip from origin to destination, microseconds');
  });
  it("sockperf's half round trips are doubled into round trips, and labelled so", () => {
    expect(toRoundTrip({ p50: 10.5, p90: 12.6, p99: 352.9, avg: 26.2 }, 'round_trip_2x_half')).toEqual({ p50: 21, p90: 25.2, p99: 705.8, avg: 52.4 });
    const g = matrixGauges([{ origin: 'a', destination: 'b', latency: { p50: 21, p90: 25, p99: 700 } }], 'netperf', 'sockperf', 'round_trip_2x_half');
    expect(g[0]!.labels).toMatchObject({ tool: 'sockperf', latency: 'round_trip_2x_half' });
    expect(g[0]!.help).toContain("2 × sockperf's half round trip");
  });
});

describe('latency matrix defaults: the seed\'s netperf TCP_RR -r 32,1024', () => {
  it('netperf is the default tool with 32-byte requests and 1024-byte responses', () => {
    const m = netSchema.parse({}).matrix;
    expect(m).toMatchObject({ tool: 'netperf', mode: 'all-pairs', request_size: 32, response_size: 1024 });
    const cmd = netperf.driver!.clientCommand(
      { tool: 'netperf', protocol: 'tcp', streams: 1, duration: 2, reverse: false, port: 12865, requestSize: m.request_size, responseSize: m.response_size },
      { server: {} as never, client: {} as never, serverAddress: '10.0.0.2', clientDir: '/tmp' },
    );
    expect(cmd).toMatch(/^netperf -H 10\.0\.0\.2 -p 12865 -l 2 -t TCP_RR -P 0 -- -r 32,1024 -k /);
  });
});
