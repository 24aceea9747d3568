import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIperf3 } from '../../../src/workloads/net/tools/iperf3/parse.js';
import { parseSockperf } from '../../../src/workloads/net/tools/sockperf/parse.js';
import { parseUperf } from '../../../src/workloads/net/tools/uperf/parse.js';
import { netperfFields, parseNetperf } from '../../../src/workloads/net/tools/netperf/parse.js';
import { parseWrk } from '../../../src/workloads/net/tools/wrk/parse.js';
import { RunError } from '../../../src/core/errors.js';

const fx = (f: string): string => readFileSync(join(__dirname, '../../fixtures/net', f), 'utf8');

describe('iperf3 -J (recorded, iperf 3.12)', () => {
  it('TCP: received throughput, sender retransmits, CPU, intervals', () => {
    const r = parseIperf3(fx('iperf3-tcp.json'));
    expect(r.protocol).toBe('tcp');
    expect(r.throughputBitsPerSecond).toBeCloseTo(8306455619.66, 0);
    expect(r.retransmits).toBeGreaterThan(0);
    expect(r.cpu?.localPercent).toBeGreaterThan(0);
    expect(r.intervals).toHaveLength(2);
    expect(r.lossPercent).toBeNull();
    expect(r.latencyMicroseconds).toBeNull();
  });
  it('UDP: throughput, loss and jitter', () => {
    const r = parseIperf3(fx('iperf3-udp.json'));
    expect(r.protocol).toBe('udp');
    expect(r.lossPercent).toBeCloseTo(0.3476, 3);
    expect(r.extra.jitterMs).toBeGreaterThan(0);
    expect(r.retransmits).toBeNull();
  });
  it('reverse, two streams', () => {
    const r = parseIperf3(fx('iperf3-tcp-reverse-p2.json'));
    expect(r.extra.reverse).toBe(true);
    expect(r.extra.streams).toBe(2);
    expect(r.throughputBitsPerSecond).toBeCloseTo(14483122775.76, 0);
  });
  it('the error key fails the run although iperf3 exited 0', () => {
    expect(() => parseIperf3(fx('iperf3-error.json'), 'worker-2 → worker-1')).toThrowError(
      /worker-2 → worker-1: iperf3 failed: unable to connect to server: Connection refused/,
    );
  });
  it('non-JSON output is a clear error', () => {
    expect(() => parseIperf3('iperf3: error - unable to connect')).toThrowError(RunError);
  });
});

describe('sockperf ping-pong (recorded, sockperf 3.7)', () => {
  it('TCP percentiles in µs, ANSI colours stripped', () => {
    const r = parseSockperf(fx('sockperf-pingpong-tcp.txt'));
    expect(r.protocol).toBe('tcp');
    expect(r.latencyMicroseconds).toMatchObject({ p50: 14.777, p90: 17.963, p99: 53.569, avg: 16.267, min: 10.259, max: 3419.408, observations: 47555 });
    expect(r.throughputOpsPerSecond).toBeCloseTo(47555 / 1.551, 3);
    expect(r.lossPercent).toBe(0);
  });
  it('UDP', () => {
    const r = parseSockperf(fx('sockperf-pingpong-udp.txt'));
    expect(r.protocol).toBe('udp');
    expect(r.latencyMicroseconds!.p50).toBeGreaterThan(0);
    expect(r.latencyMicroseconds!.p99).toBeGreaterThanOrEqual(r.latencyMicroseconds!.p50);
  });
  it('connection refused (exit 0) is an error', () => {
    expect(() => parseSockperf(fx('sockperf-error-refused.txt'))).toThrowError(/Connection refused/);
  });
});

describe('uperf -R (published real output)', () => {
  it('throughput from the Total line, per-interval rates from Txn2 deltas', () => {
    const r = parseUperf(fx('uperf-R-stream.txt'));
    expect(r.extra.dataTransaction).toBe('Txn2');
    expect(r.intervals).toHaveLength(2);
    // (2338242560 B * 8) over 1.0009524 s
    expect(r.intervals[0]!.bitsPerSecond! / 1e9).toBeCloseTo(18.69, 1);
    expect(r.intervals[0]!.opsPerSecond).toBeCloseTo(285430 / 1.0009524, 0);
    // 79955230720 B over 29.735 s ≈ 21.5 Gb/s (uperf's own summary: 20.15Gb/s over 31.74 s incl. setup)
    expect(r.throughputBitsPerSecond! / 1e9).toBeCloseTo(21.51, 1);
    expect(r.extra.master).toMatchObject({ operations: 9760163, errors: 0 });
  });
  it('errors and aborts are failures', () => {
    expect(() => parseUperf(fx('uperf-R-stream.txt') + '\nWARNING: 3 Errors detected during run\n')).toThrowError(/3 errors/);
    expect(() => parseUperf('*** Slave aborted! ***')).toThrowError(/aborted/);
    expect(() => parseUperf('Txn2  67.14GB / 30.23(s) = 19.08Gb/s')).toThrowError(/-R/);
  });
});

describe('netperf omni', () => {
  it('-o CSV (recorded TCP_RR, jpedro1992 logNetperf.txt)', () => {
    const r = parseNetperf(fx('netperf-tcp-rr-csv.txt'));
    expect(r.latencyMicroseconds).toEqual({ p50: 159, p90: 203, p99: 318 });
    expect(r.throughputOpsPerSecond).toBe(5931.79);
    expect(r.throughputBitsPerSecond).toBeNull();
  });
  it('-k keyval (format of src/nettest_omni.c; -1 sentinels are "not measured")', () => {
    const text = 'MIGRATED TCP STREAM TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to 10.0.0.2 () port 0 AF_INET\r\nTHROUGHPUT=9412.33\r\nTHROUGHPUT_UNITS=10^6bits/s\r\nP99_LATENCY=-1\r\nRT_LATENCY=-1.000\r\nLOCAL_TRANSPORT_RETRANS=17\r\n';
    expect(netperfFields(text).THROUGHPUT_UNITS).toBe('10^6bits/s');
    const r = parseNetperf(text);
    expect(r.throughputBitsPerSecond).toBeCloseTo(9412.33e6, 0);
    expect(r.retransmits).toBe(17);
    expect(r.latencyMicroseconds).toBeNull();
    expect(r.extra.roundTripMicroseconds).toBeUndefined();
  });
  it('an error message is not a result', () => {
    expect(() => parseNetperf('establish control: are you sure there is a netserver listening on 10.0.0.2 at port 12865?')).toThrowError(RunError);
  });
});

describe('wrk (recorded, wrk 4.1 against nginx-light)', () => {
  it('--latency: requests/s and the distribution in µs', () => {
    const r = parseWrk(fx('wrk-latency.txt'));
    expect(r.throughputOpsPerSecond).toBe(19439.93);
    expect(r.latencyMicroseconds).toMatchObject({ p50: 485, p90: 816, p99: 2760, avg: 562.23 });
    expect(r.extra.requests).toBe(40821);
    expect(r.seconds).toBeCloseTo(2.1, 5);
    expect(r.throughputBitsPerSecond).toBeCloseTo(4.45 * 1024 * 1024 * 8, 0);
  });
  it('without --latency: average only', () => {
    const r = parseWrk(fx('wrk-plain.txt'));
    expect(r.throughputOpsPerSecond).toBe(28882.16);
    expect(r.latencyMicroseconds).toBeNull();
    expect(r.extra.latencyAvgMicroseconds).toBeCloseTo(467.51, 2);
  });
  it('connection refused', () => {
    expect(() => parseWrk(fx('wrk-error.txt'))).toThrowError(/could not connect to 10.83.0.12:8081/);
  });
});
