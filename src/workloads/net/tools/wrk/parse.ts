import { RunError } from '../../../../core/errors.js';
import { cleanOutput, emptyResult, type NetResult } from '../types.js';

const TIME_UNIT: Record<string, number> = { us: 1, ms: 1000, s: 1e6, m: 60e6, h: 3600e6 };
const SIZE_UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function micros(v: string): number | null {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(v.trim());
  return m ? Number(m[1]) * TIME_UNIT[m[2]!]! : null;
}

function bytes(v: string): number | null {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(v.trim());
  return m ? Number(m[1]) * SIZE_UNIT[m[2]!]! : null;
}

/**
 * Parse a wrk report (wrk 4.x): requests/s, transfer/s, latency average and, with --latency,
 * the 50/75/90/99 % distribution. Socket errors and non-2xx/3xx responses go in `extra`.
 */
export function parseWrk(text: string, where = 'wrk'): NetResult {
  const t = cleanOutput(text);
  const conn = /unable to connect to (\S+) (.*)/.exec(t);
  if (conn) throw new RunError('net.wrk.failed', `${where}: wrk could not connect to ${conn[1]}: ${conn[2]!.trim()}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(t);
  if (!rps) throw new RunError('net.wrk.bad_output', `${where}: no "Requests/sec:" line in the wrk report`);
  const r = emptyResult('wrk', 'http');
  r.throughputOpsPerSecond = Number(rps[1]);
  const tr = /Transfer\/sec:\s+(\S+)/.exec(t);
  const trBytes = tr ? bytes(tr[1]!) : null;
  r.throughputBitsPerSecond = trBytes === null ? null : trBytes * 8;
  const total = /(\d+) requests in ([\d.]+\w+), (\S+) read/.exec(t);
  if (total) {
    r.extra.requests = Number(total[1]);
    const secs = micros(total[2]!);
    r.seconds = secs === null ? null : secs / 1e6;
    r.extra.bytesRead = bytes(total[3]!);
  }
  const lat = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(t);
  const avg = lat ? micros(lat[1]!) : null;
  const max = lat ? micros(lat[3]!) : null;
  const dist = new Map<number, number>();
  for (const m of t.matchAll(/^\s+(\d+)%\s+(\S+)$/gm)) {
    const v = micros(m[2]!);
    if (v !== null) dist.set(Number(m[1]), v);
  }
  const p50 = dist.get(50);
  const p90 = dist.get(90);
  const p99 = dist.get(99);
  if (p50 !== undefined && p90 !== undefined && p99 !== undefined) {
    r.latencyMicroseconds = { p50, p90, p99, ...(avg !== null ? { avg } : {}), ...(max !== null ? { max } : {}) };
  } else if (avg !== null) {
    r.extra.latencyAvgMicroseconds = avg;
    if (max !== null) r.extra.latencyMaxMicroseconds = max;
  }
  const p75 = dist.get(75);
  if (p75 !== undefined) r.extra.p75 = p75;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(t);
  if (sock) r.extra.socketErrors = { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(t);
  if (non2xx) r.extra.non2xx3xx = Number(non2xx[1]);
  const th = /(\d+) threads and (\d+) connections/.exec(t);
  if (th) {
    r.extra.threads = Number(th[1]);
    r.extra.connections = Number(th[2]);
  }
  return r;
}
