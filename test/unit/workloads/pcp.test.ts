import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PCP_LOGGED_METRICS, loggerConf, pmcdConf } from '../../../src/workloads/pcp/config.js';
import { parsePmrepCsv, summarisePcp } from '../../../src/workloads/pcp/summary.js';
import { pmcdHostSpec } from '../../../src/workloads/pcp/logger.js';

const fx = (f: string): string => readFileSync(join(__dirname, '../../fixtures/net/pcp', f), 'utf8');

describe('PCP summary from recorded pmrep reports (iperf3 into net2, 321 MBytes)', () => {
  const rates = parsePmrepCsv(fx('rates.csv'), 'rates');
  const counters = parsePmrepCsv(fx('counters.csv'), 'counters');
  const s = summarisePcp(rates, counters);

  it('reads the columns, epoch times and empty cells', () => {
    expect(counters.columns).toEqual(['network.interface.in.bytes-lo', 'network.interface.in.bytes-eth0', 'network.interface.out.bytes-lo', 'network.interface.out.bytes-eth0']);
    expect(counters.times[0]).toBe(1795641684);
    expect(counters.rows[0]).toEqual([null, null, null, null]);
  });

  it('counts the bytes iperf3 moved on eth0, per direction, from the raw counters', () => {
    expect(s.network.eth0!.inBytes).toBe(338688084 - 7105);
    expect(s.network.eth0!.outBytes).toBe(54975 - 5801);
    // iperf3 reported 321 MBytes received.
    expect(s.network.eth0!.inBytes / 2 ** 20).toBeCloseTo(323, 0);
    expect(s.network.eth0!.inPeakBytesPerSecond).toBe(243587661 - 77648818);
    expect(s.network.lo!.inBytes).toBe(0);
    expect(Object.keys(s.network)).toEqual(['eth0', 'lo']);
  });

  it('summarises CPU utilisation and memory', () => {
    expect(s.cpuPercent.user).toEqual({ mean: 74.613, max: 75.6 });
    expect(s.cpuPercent.busy!.max).toBe(100);
    expect(s.memory.usedKiB!.max).toBe(6375368);
    expect(s.memory.physicalKiB).toBe(24684092);
    expect(s.samples).toBe(6);
    expect(s.start).toBe(1795641684);
    expect(s.end).toBe(1795641690);
  });

  it('treats a counter that went down as reset (counts from zero)', () => {
    const t = parsePmrepCsv('Time,"network.interface.in.bytes-my-if","network.interface.out.bytes-my-if"\n10,100,0\n11,300,0\n12,50,0\n', 'x');
    const n = summarisePcp(parsePmrepCsv('Time,"mem.util.used"\n10,1\n', 'y'), t).network['my-if']!;
    expect(n.inBytes).toBe(250);
    expect(n.inBytesPerSecond).toBe(125);
  });

  it('refuses something that is not a pmrep CSV, naming it', () => {
    expect(() => parsePmrepCsv('pmrep: Cannot open archive', 'PCP of net1')).toThrow(/PCP of net1: not a pmrep CSV report/);
    expect(() => parsePmrepCsv('Time,"a"\n2026-11-25 21:05:53,1\n', 'PCP of net1')).toThrow(/bad time/);
  });
});

describe('PCP summary at a sub-second interval (iperf3 between two k8s nodes, pmlogger every 0.5 s)', () => {
  // pmrep -f %s.%f; rates interpolated every 0.5 s, counters the archive's own samples (-u -r).
  const sub = (f: string): string => fx(join('k8s-subsecond', f));
  const counters = parsePmrepCsv(sub('counters.csv'), 'counters');
  const s = summarisePcp(parsePmrepCsv(sub('rates.csv'), 'rates'), counters);
  const eth0 = s.network.eth0!;

  it('keeps the samples\' microseconds', () => {
    expect(counters.times[0]).toBe(1796321915.26386);
    expect(counters.times[1]! - counters.times[0]!).toBeCloseTo(0.497, 3);
    expect(s.start).toBe(1796321915.26386);
    expect(s.end).toBe(1796321923.760849);
  });

  it('counts every byte between the first and the last sample: at least what the iperf3 server received', () => {
    expect(eth0.inBytes).toBe(8172969854 - 4640721544);
    // iperf3's own count (end.sum_received.bytes of that run's client.out).
    expect(eth0.inBytes).toBeGreaterThanOrEqual(3527147520);
  });

  it('rates divide by the samples\' real spacing, not by whole seconds', () => {
    // Busiest half second: 7087187186 - 6354152686 bytes in 0.499807 s.
    expect(eth0.inPeakBytesPerSecond).toBe(Math.round((7087187186 - 6354152686) / (1796321922.260809 - 1796321921.761002)));
    expect(eth0.inPeakBytesPerSecond / 1e9).toBeCloseTo(1.467, 3);
    expect(eth0.inBytesPerSecond).toBe(Math.round(eth0.inBytes / (1796321923.760849 - 1796321915.26386)));
  });
});

describe('PCP configuration for a run', () => {
  it('pmcd runs only the pmcd and linux agents, in-process, and refuses stores', () => {
    const c = pmcdConf();
    expect(c.split('\n').filter((l) => /^[a-z]+\t/.test(l)).map((l) => l.split('\t').slice(0, 3))).toEqual([['pmcd', '2', 'dso'], ['linux', '60', 'dso']]);
    expect(c).toContain('disallow ".*" : store;');
  });
  it('pmlogger logs every metric at the interval (sub-second in msec)', () => {
    expect(loggerConf(1)).toMatch(/^log mandatory on every 1 sec \{/);
    expect(loggerConf(0.5)).toMatch(/every 500 msec/);
    for (const m of PCP_LOGGED_METRICS) expect(loggerConf(2)).toContain(`  ${m}\n`);
  });
});

describe('pmcdHostSpec', () => {
  it('uses the run folder\'s Unix socket when its path fits in a socket address, else pmcd\'s TCP port', () => {
    expect(pmcdHostSpec('10.0.0.2', '/tmp/gr/h1/pcp/r1')).toBe('unix:/tmp/gr/h1/pcp/r1/run/pmcd.socket');
    // A Kubernetes node's data folder + the run's UUID: 119 bytes of socket path, pmcd cannot bind it.
    const long = '/tmp/gr-lead-pcp/.greenrace/k8s-shared-it/hosts/worker-1/pcp/6c24b357-b45f-420f-b488-6a32feedc7b3';
    expect(pmcdHostSpec('10.77.168.12', long)).toBe('10.77.168.12:44322');
  });
});
