/**
 * Parser for the output of Kafka's ProducerPerformance (kafka-producer-perf-test), 4.0/4.1 and
 * 4.2+ formats, printed with LC_ALL=C (a '.' decimal point). MB means 1024² bytes.
 *
 *   window (every reporting interval):
 *     N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency.
 *   final (4.0/4.1: %.1f records/sec; 4.2+: %f and an optional " steady state"):
 *     N[ steady state] records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
 *     P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.
 */
const NUM = '(NaN|-?Infinity|-?[\\d.]+(?:[eE][-+]?\\d+)?)';
export const WINDOW_RE = new RegExp(`^(\\d+) records sent, ${NUM} records/sec \\(${NUM} MB/sec\\), ${NUM} ms avg latency, ${NUM} ms max latency\\.$`);
export const FINAL_RE = new RegExp(
  `^(\\d+)( steady state)? records sent, ${NUM} records/sec \\(${NUM} MB/sec\\), ${NUM} ms avg latency, ${NUM} ms max latency, ` +
    `(\\d+) ms 50th, (\\d+) ms 95th, (\\d+) ms 99th, (\\d+) ms 99\\.9th\\.$`,
);
const WARMUP_RE = /^Warmup first (\d+) records\./;
const STEADY_RE = /^In steady state\.$/;

export interface PerfWindow {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
  /** True for windows printed after the "In steady state." marker (or when there is no warm-up). */
  steady: boolean;
}

export interface PerfFinal {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
}

export interface PerfOutput {
  windows: PerfWindow[];
  /** The overall final line. */
  total?: PerfFinal;
  /** The steady-state final line (4.2+ with --warmup-records). */
  steady?: PerfFinal;
  warmupRecords?: number;
  /** Lines that are not part of the format (log lines, exceptions), for error messages. */
  other: string[];
  /**
   * Records whose send failed: the tool counts only successful records in its lines and prints
   * each failure's exception (`printStackTrace`, one `<class>: <message>` line at column 0).
   */
  failed: number;
  /** Failures by exception line. */
  failures: Map<string, number>;
}

/** The first line of a Java exception as printStackTrace writes it (not a `Caused by:` or `at` line). */
export const EXCEPTION_RE = /^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)(?::\s.*)?$/;

const num = (s: string): number => (s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-Infinity' ? -Infinity : Number(s));

/** Incremental parser: feed lines as they come (the driver shows progress from window lines). */
export class PerfTestParser {
  readonly out: PerfOutput = { windows: [], other: [], failed: 0, failures: new Map() };
  private inSteady = true;

  line(raw: string): { kind: 'window'; w: PerfWindow } | { kind: 'final'; f: PerfFinal; steady: boolean } | { kind: 'failure'; message: string } | { kind: 'other' } {
    const line = raw.trim();
    if (line === '') return { kind: 'other' };
    let m = WINDOW_RE.exec(line);
    if (m) {
      const w: PerfWindow = { records: Number(m[1]), recordsPerSec: num(m[2]!), mbPerSec: num(m[3]!), avgMs: num(m[4]!), maxMs: num(m[5]!), steady: this.inSteady };
      this.out.windows.push(w);
      return { kind: 'window', w };
    }
    m = FINAL_RE.exec(line);
    if (m) {
      const f: PerfFinal = {
        records: Number(m[1]),
        recordsPerSec: num(m[3]!),
        mbPerSec: num(m[4]!),
        avgMs: num(m[5]!),
        maxMs: num(m[6]!),
        p50: Number(m[7]),
        p95: Number(m[8]),
        p99: Number(m[9]),
        p999: Number(m[10]),
      };
      const steady = m[2] !== undefined;
      if (steady) this.out.steady = f;
      else this.out.total = f;
      return { kind: 'final', f, steady };
    }
    m = WARMUP_RE.exec(line);
    if (m) {
      this.out.warmupRecords = Number(m[1]);
      this.inSteady = false;
      return { kind: 'other' };
    }
    if (STEADY_RE.test(line)) {
      this.inSteady = true;
      return { kind: 'other' };
    }
    if (EXCEPTION_RE.test(raw)) {
      this.out.failed++;
      this.out.failures.set(line, (this.out.failures.get(line) ?? 0) + 1);
      return { kind: 'failure', message: line };
    }
    this.out.other.push(line);
    return { kind: 'other' };
  }
}

export function parsePerfTest(text: string): PerfOutput {
  const p = new PerfTestParser();
  for (const l of text.split(/\r?\n/)) p.line(l);
  return p.out;
}
