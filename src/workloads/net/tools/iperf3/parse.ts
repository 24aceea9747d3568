import { RunError } from '../../../../core/errors.js';
import { emptyResult, type NetResult } from '../types.js';

type J = Record<string, unknown>;
const obj = (v: unknown): J => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {});
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Parse `iperf3 -J` output. iperf3 exits 0 with `-J` even when the test failed, so the `error`
 * key is checked first. TCP: received throughput and sender retransmits; UDP: `sum` (or
 * `sum_received` since 3.11), loss and jitter. CPU from `cpu_utilization_percent`.
 */
export function parseIperf3(text: string, where = 'iperf3'): NetResult {
  let doc: J;
  try {
    doc = obj(JSON.parse(text));
  } catch {
    const first = text.trim().split('\n')[0] ?? '';
    throw new RunError('net.iperf3.bad_output', `${where}: output is not iperf3 JSON (${first.slice(0, 200) || 'empty'})`);
  }
  if (typeof doc.error === 'string') {
    throw new RunError('net.iperf3.failed', `${where}: iperf3 failed: ${doc.error}`);
  }
  const start = obj(doc.start);
  const test = obj(start.test_start);
  const end = obj(doc.end);
  const protocol = String(test.protocol ?? 'TCP').toLowerCase();
  const r = emptyResult('iperf3', protocol);
  r.extra.version = start.version ?? null;
  r.extra.reverse = test.reverse === 1;
  r.extra.streams = num(test.num_streams);
  if (Object.keys(end).length === 0) throw new RunError('net.iperf3.no_end', `${where}: iperf3 output has no "end" section (the test did not finish)`);
  if (protocol === 'udp') {
    const s = Object.keys(obj(end.sum_received)).length ? obj(end.sum_received) : obj(end.sum);
    r.throughputBitsPerSecond = num(s.bits_per_second);
    r.lossPercent = num(s.lost_percent);
    r.seconds = num(s.seconds);
    r.extra.jitterMs = num(s.jitter_ms);
    r.extra.lostPackets = num(s.lost_packets);
    r.extra.packets = num(s.packets);
  } else {
    const rec = obj(end.sum_received);
    const sent = obj(end.sum_sent);
    r.throughputBitsPerSecond = num(rec.bits_per_second);
    r.retransmits = num(sent.retransmits);
    r.seconds = num(rec.seconds);
    r.extra.sentBitsPerSecond = num(sent.bits_per_second);
    r.extra.congestion = end.sender_tcp_congestion ?? null;
    const streams = Array.isArray(end.streams) ? end.streams : [];
    const rtts = streams.map((s) => num(obj(obj(s).sender).mean_rtt)).filter((v): v is number => v !== null);
    if (rtts.length) r.extra.meanRttMicroseconds = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  }
  const cpu = obj(end.cpu_utilization_percent);
  if (Object.keys(cpu).length) r.cpu = { localPercent: num(cpu.host_total), remotePercent: num(cpu.remote_total) };
  const intervals = Array.isArray(doc.intervals) ? doc.intervals : [];
  r.intervals = intervals.map((iv) => {
    const s = obj(obj(iv).sum);
    return { start: num(s.start) ?? 0, end: num(s.end) ?? 0, bitsPerSecond: num(s.bits_per_second) };
  });
  if (r.throughputBitsPerSecond === null) throw new RunError('net.iperf3.no_throughput', `${where}: iperf3 output has no throughput in "end"`);
  return r;
}
