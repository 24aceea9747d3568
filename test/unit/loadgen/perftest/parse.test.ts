import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePerfTest } from '../../../../src/loadgen/perftest/parse.js';
import { kafkaToolsVersion, perfTestArgs } from '../../../../src/loadgen/perftest/driver.js';

const fx = (f: string): string => readFileSync(new URL(`../../../fixtures/ingest/${f}`, import.meta.url), 'utf8');

describe('ProducerPerformance output parser (recorded real outputs)', () => {
  it('4.1.1: 5 s windows and the final line with percentiles', () => {
    const o = parsePerfTest(fx('perftest-4.1.1-throttled.txt'));
    expect(o.windows).toHaveLength(2);
    expect(o.windows[0]).toEqual({ records: 19756, recordsPerSec: 3945.7, mbPerSec: 3.85, avgMs: 1185.5, maxMs: 1832, steady: true });
    expect(o.total).toEqual({ records: 60000, recordsPerSec: 4980.9, mbPerSec: 4.86, avgMs: 462.87, maxMs: 1832, p50: 35, p95: 1571, p99: 1745, p999: 1822 });
    expect(o.steady).toBeUndefined();
    expect(o.other).toEqual([]);
  });

  it('4.2.0 with --warmup-records: warm-up windows, steady windows, two final lines', () => {
    const o = parsePerfTest(fx('perftest-4.2.0-warmup.txt'));
    expect(o.warmupRecords).toBe(10000);
    expect(o.windows.filter((w) => !w.steady)).toHaveLength(1);
    expect(o.windows.filter((w) => w.steady)).toHaveLength(5);
    expect(o.total?.records).toBe(40000);
    expect(o.total?.recordsPerSec).toBeCloseTo(4977.600796, 6);
    expect(o.steady).toEqual({ records: 30000, recordsPerSec: 4952.129416, mbPerSec: 4.84, avgMs: 13, maxMs: 197, p50: 4, p95: 76, p99: 146, p999: 194 });
  });

  it('4.2.0 without warm-up: 6-decimal rate on the final line', () => {
    const o = parsePerfTest(fx('perftest-4.2.0-plain.txt'));
    expect(o.windows.map((w) => w.records)).toEqual([683, 16926]);
    expect(o.total).toMatchObject({ records: 30000, recordsPerSec: 9680.54211, p50: 206, p999: 624 });
  });

  it('a tool that cannot reach its broker prints no result lines, only log lines', () => {
    const o = parsePerfTest(fx('perftest-4.1.1-nobroker.txt'));
    expect(o.windows).toEqual([]);
    expect(o.total).toBeUndefined();
    expect(o.other.some((l) => /could not be established/.test(l))).toBe(true);
  });

  it('accepts NaN and Infinity as the tool prints them', () => {
    const o = parsePerfTest('0 records sent, NaN records/sec (NaN MB/sec), NaN ms avg latency, -Infinity ms max latency.\n');
    expect(o.windows[0]!.recordsPerSec).toBeNaN();
    expect(o.windows[0]!.maxMs).toBe(-Infinity);
  });
});

describe('ProducerPerformance command line', () => {
  const base = { topic: 't', rate: 2000, messageSize: 1024, bootstrap: ['a:9092', 'b:9092'], acks: 'all' as const, lingerMs: 5, batchBytes: 65536, timeouts: { requestMs: 10000 }, warmupS: 5, durationS: 30 };
  it('4.1 uses --producer-props and no warm-up option', () => {
    const { args, numRecords, warmupRecords } = perfTestArgs(base, [4, 1, 1]);
    expect(numRecords).toBe(70000);
    expect(warmupRecords).toBe(0);
    expect(args).toContain('--producer-props');
    expect(args).toContain('bootstrap.servers=a:9092,b:9092');
    expect(args).not.toContain('--warmup-records');
    expect(args.slice(args.indexOf('--throughput'), args.indexOf('--throughput') + 2)).toEqual(['--throughput', '2000']);
  });
  it('4.2+ uses --bootstrap-server, --command-property, 1 s reports and --warmup-records', () => {
    const { args, warmupRecords } = perfTestArgs({ ...base, rate: 0 }, [4, 2, 0]);
    expect(warmupRecords).toBe(0);
    expect(args).toEqual(expect.arrayContaining(['--bootstrap-server', 'a:9092,b:9092', '--command-property', 'acks=all', '--reporting-interval', '1000']));
    expect(args.slice(args.indexOf('--throughput'), args.indexOf('--throughput') + 2)).toEqual(['--throughput', '-1']);
    expect(perfTestArgs(base, [4, 3, 1]).args.slice(-2)).toEqual(['--warmup-records', '10000']);
  });
  it('finds the tools version from the jar name', () => {
    expect(kafkaToolsVersion('/nonexistent')).toBeUndefined();
  });
});

describe('ProducerPerformance failures (recorded 4.3.1 output)', () => {
  it('counts one failure per exception line at column 0, not log lines or causes', () => {
    const o = parsePerfTest(fx('perftest-4.3.1-failures.stderr.txt'));
    expect(o.failed).toBe(580);
    const p = parsePerfTest(
      [
        'org.apache.kafka.common.errors.TimeoutException: Expiring 3 record(s) for t-0:120000 ms has passed since batch creation',
        '\tat org.apache.kafka.clients.producer.internals.ProducerBatch.done(ProducerBatch.java:1)',
        'Caused by: java.io.IOException: broken pipe',
        '[2026-12-03 03:50:00,000] WARN [Producer clientId=perf] Connection to node 1 could not be established. (org.apache.kafka.clients.NetworkClient)',
        '',
      ].join('\n'),
    );
    expect(p.failed).toBe(1);
    expect(p.other.some((l) => /could not be established/.test(l))).toBe(true);
  });
});
