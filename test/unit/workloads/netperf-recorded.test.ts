/**
 * The netperf parser on outputs recorded here with Debian's netperf 2.7.0 (non-free) between two
 * namespace hosts (test/fixtures/net/README.md), and sockperf's ping-pong between the same pair:
 * sockperf reports half round trips, netperf TCP_RR whole ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNetperf } from '../../../src/workloads/net/tools/netperf/parse.js';
import { parseSockperf } from '../../../src/workloads/net/tools/sockperf/parse.js';
import { RunError } from '../../../src/core/errors.js';

const fx = (f: string): string => readFileSync(join(__dirname, '../../fixtures/net', f), 'utf8');

describe('netperf 2.7.0 from Debian non-free (recorded)', () => {
  it('-o CSV after the Debian build\'s banner ("… () port 0 AF_INET : demo : first burst 0")', () => {
    const r = parseNetperf(fx('netperf-tcp-rr-debian-o.txt'));
    expect(r.latencyMicroseconds).toEqual({ p50: 22, p90: 26, p99: 1869, avg: 75.38 });
    expect(r.throughputOpsPerSecond).toBe(13255.45);
  });

  it("the seed's command: TCP_RR -r 32,1024 with -P 1 and -o P50,P90,P99,THROUGHPUT,THROUGHPUT_UNITS", () => {
    const r = parseNetperf(fx('netperf-tcp-rr-32-1024-seed.txt'));
    expect(r.latencyMicroseconds).toEqual({ p50: 20, p90: 26, p99: 1745 });
    expect(r.throughputOpsPerSecond).toBe(14893.77);
  });

  it("-k keyval as greenrace's driver asks for it (TCP_RR 1,1 and 32,1024)", () => {
    const a = parseNetperf(fx('netperf-tcp-rr-k.txt'));
    expect(a.protocol).toBe('tcp');
    expect(a.latencyMicroseconds).toEqual({ p50: 20, p90: 25, p99: 1642, avg: 64.49 });
    expect(a.throughputOpsPerSecond).toBe(15493.57);
    expect(a.retransmits).toBe(0);
    const b = parseNetperf(fx('netperf-tcp-rr-32-1024-k.txt'));
    expect(b.latencyMicroseconds).toEqual({ p50: 23, p90: 27, p99: 1760, avg: 72.95 });
    // Round trips per second and mean round-trip time agree: 1 / 72.95 µs ≈ 13,708/s.
    expect(Math.abs(1e6 / b.latencyMicroseconds!.avg! - b.throughputOpsPerSecond!) / b.throughputOpsPerSecond!).toBeLessThan(0.01);
  });

  it('TCP_STREAM -k: throughput in bits/s and the retransmits; its send() percentiles are not a latency (null)', () => {
    const r = parseNetperf(fx('netperf-tcp-stream-k.txt'));
    expect(r.throughputBitsPerSecond).toBeCloseTo(2234.86e6, 0);
    expect(r.retransmits).toBe(46);
    expect(r.latencyMicroseconds).toBeNull();
  });

  it('no netserver listening: exit 255 and a message, which the parser names', () => {
    let err: unknown;
    try {
      parseNetperf(fx('netperf-error-refused.txt'), 'worker-2 → worker-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).code).toBe('net.netperf.bad_output');
    expect((err as RunError).message).toMatch(/^worker-2 → worker-1: .*are you sure there is a netserver listening on 10\.89\.0\.12 at port 12866/);
  });

  it('sockperf ping-pong between the same pair reports half a round trip: twice its p50 is within 25 % of netperf\'s', () => {
    const s = parseSockperf(fx('sockperf-pingpong-tcp-netperf-pair.txt'));
    const n = parseNetperf(fx('netperf-tcp-rr-debian-o.txt'));
    const half = s.latencyMicroseconds!.p50;
    expect(half).toBeCloseTo(10.535, 3);
    expect(Math.abs(2 * half - n.latencyMicroseconds!.p50) / n.latencyMicroseconds!.p50).toBeLessThan(0.25);
    // …and sockperf's own p50 is not a round trip: it is about half of netperf's.
    expect(half / n.latencyMicroseconds!.p50).toBeLessThan(0.6);
  });
});
