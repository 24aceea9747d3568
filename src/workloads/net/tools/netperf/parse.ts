import { RunError } from '../../../../core/errors.js';
import { cleanOutput, emptyResult, type NetResult } from '../types.js';

/** Long names printed by `-o` (CSV header) mapped to the short names used by `-k`. */
const LONG_TO_KEY: Record<string, string> = {
  '50th Percentile Latency Microseconds': 'P50_LATENCY',
  '90th Percentile Latency Microseconds': 'P90_LATENCY',
  '99th Percentile Latency Microseconds': 'P99_LATENCY',
  'Mean Latency Microseconds': 'MEAN_LATENCY',
  'Minimum Latency Microseconds': 'MIN_LATENCY',
  'Maximum Latency Microseconds': 'MAX_LATENCY',
  Throughput: 'THROUGHPUT',
  'Throughput Units': 'THROUGHPUT_UNITS',
  'Round Trip Latency usec/tran': 'RT_LATENCY',
  'Local Transport Retransmissions': 'LOCAL_TRANSPORT_RETRANS',
  'Protocol': 'PROTOCOL',
};

/** netperf omni output as NAME → value: `-k` keyval lines, or `-o` CSV (header line + value line). */
export function netperfFields(text: string): Record<string, string> {
  const lines = cleanOutput(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^MIGRATED |TEST from .* to /.test(l));
  const out: Record<string, string> = {};
  const kv = lines.filter((l) => /^[A-Z0-9_]+=/.test(l));
  if (kv.length) {
    for (const l of kv) {
      const i = l.indexOf('=');
      out[l.slice(0, i)] = l.slice(i + 1).trim();
    }
    return out;
  }
  // CSV: the last line is the values, the line before it the header.
  if (lines.length >= 2) {
    const header = lines[lines.length - 2]!.split(',').map((s) => s.trim());
    const values = lines[lines.length - 1]!.split(',').map((s) => s.trim());
    if (header.length === values.length) {
      header.forEach((h, i) => (out[LONG_TO_KEY[h] ?? h.toUpperCase().replace(/[^A-Z0-9]+/g, '_')] = values[i]!));
    }
  }
  return out;
}

/**
 * Parse netperf omni output (TCP_RR/UDP_RR/TCP_STREAM...). Percentiles are integer µs;
 * THROUGHPUT_UNITS tells transactions (Trans/s) from bits (10^6bits/s); -1 is "not measured".
 */
export function parseNetperf(text: string, where = 'netperf', protocol = 'tcp'): NetResult {
  const f = netperfFields(text);
  const n = (k: string): number | null => {
    const v = f[k];
    if (v === undefined || v === '') return null;
    const x = Number(v);
    return Number.isFinite(x) && x >= 0 ? x : null;
  };
  if (f.THROUGHPUT === undefined && f.P50_LATENCY === undefined) {
    const first = cleanOutput(text).trim().split('\n').slice(-2).join(' | ');
    throw new RunError('net.netperf.bad_output', `${where}: no netperf omni results found (use -o or -k output selectors) (${first.slice(0, 300)})`);
  }
  const r = emptyResult('netperf', (f.PROTOCOL ?? protocol).toLowerCase());
  const thr = n('THROUGHPUT');
  const units = f.THROUGHPUT_UNITS ?? '';
  if (thr !== null) {
    if (/Trans\/s/i.test(units)) r.throughputOpsPerSecond = thr;
    else if (/10\^6bits\/s/.test(units)) r.throughputBitsPerSecond = thr * 1e6;
    else if (/10\^9bits\/s/.test(units)) r.throughputBitsPerSecond = thr * 1e9;
    else if (/10\^3bits\/s/.test(units)) r.throughputBitsPerSecond = thr * 1e3;
    else r.extra.throughput = { value: thr, units };
  }
  const p50 = n('P50_LATENCY');
  const p90 = n('P90_LATENCY');
  const p99 = n('P99_LATENCY');
  // Only request/response tests (throughput in Trans/s) time round trips; a *_STREAM test's
  // "latency" percentiles time its send() calls, which is not network latency: left null.
  const transactions = /Trans\/s/i.test(units) || (thr === null && !units);
  if (transactions && p50 !== null && p90 !== null && p99 !== null) {
    const mean = n('MEAN_LATENCY');
    const min = n('MIN_LATENCY');
    const max = n('MAX_LATENCY');
    r.latencyMicroseconds = { p50, p90, p99, ...(mean !== null ? { avg: mean } : {}), ...(min !== null ? { min } : {}), ...(max !== null ? { max } : {}) };
  }
  r.retransmits = n('LOCAL_TRANSPORT_RETRANS');
  const rt = n('RT_LATENCY');
  if (rt !== null && transactions) r.extra.roundTripMicroseconds = rt;
  r.extra.units = units || null;
  return r;
}
