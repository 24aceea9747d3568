import { RunError } from '../../../../core/errors.js';
import { cleanOutput, emptyResult, type NetResult } from '../types.js';

/**
 * Parse `sockperf ping-pong` output (sockperf 3.x). Latencies are in microseconds and are
 * half round trips, as sockperf reports them. sockperf exits 0 when it cannot connect, so an
 * `ERROR:` line or missing percentiles is a failure.
 */
export function parseSockperf(text: string, where = 'sockperf'): NetResult {
  const t = cleanOutput(text);
  const err = /sockperf: ERROR: (.*)/.exec(t);
  if (err) throw new RunError('net.sockperf.failed', `${where}: sockperf failed: ${err[1]!.trim()}`);
  const pct = new Map<number, number>();
  for (const m of t.matchAll(/percentile\s+([\d.]+)\s*=\s*([\d.]+)/g)) pct.set(Number(m[1]), Number(m[2]));
  const p50 = pct.get(50);
  const p90 = pct.get(90);
  const p99 = pct.get(99);
  if (p50 === undefined || p90 === undefined || p99 === undefined) {
    const last = t.trim().split('\n').slice(-3).join(' | ');
    throw new RunError('net.sockperf.no_percentiles', `${where}: sockperf printed no latency percentiles (${last.slice(0, 300)})`);
  }
  const proto = /# (TCP|UDP)/.exec(t)?.[1]?.toLowerCase() ?? 'udp';
  const r = emptyResult('sockperf', proto);
  const avg = /avg-latency=([\d.]+)/.exec(t);
  const max = /<MAX> observation =\s*([\d.]+)/.exec(t);
  const min = /<MIN> observation =\s*([\d.]+)/.exec(t);
  const obs = /Total (\d+) observations/.exec(t);
  r.latencyMicroseconds = {
    p50,
    p90,
    p99,
    ...(avg ? { avg: Number(avg[1]) } : {}),
    ...(min ? { min: Number(min[1]) } : {}),
    ...(max ? { max: Number(max[1]) } : {}),
    ...(obs ? { observations: Number(obs[1]) } : {}),
  };
  const valid = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)/.exec(t);
  if (valid) {
    const secs = Number(valid[1]);
    const sent = Number(valid[2]);
    const recv = Number(valid[3]);
    r.seconds = secs;
    r.throughputOpsPerSecond = secs > 0 ? recv / secs : null;
    r.lossPercent = sent > 0 ? Math.max(0, ((sent - recv) / sent) * 100) : null;
  }
  const p999 = pct.get(99.9);
  if (p999 !== undefined) r.extra.p999 = p999;
  const dropped = /# dropped messages = (\d+)/.exec(t);
  if (dropped) r.extra.droppedMessages = Number(dropped[1]);
  const ver = /version #([^\s=]+)/.exec(t);
  if (ver) r.extra.version = ver[1];
  return r;
}
