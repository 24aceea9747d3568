import { RunError } from '../../../../core/errors.js';
import { cleanOutput, emptyResult, type NetResult } from '../types.js';

export interface UperfSample {
  timestampMs: number;
  name: string;
  bytes: number;
  ops: number;
}

/** The `-R` lines: `timestamp_ms:<epoch ms> name:<Txn2|Total|...> nr_bytes:<n> nr_ops:<n>` (cumulative). */
export function uperfSamples(text: string): UperfSample[] {
  const out: UperfSample[] = [];
  for (const m of cleanOutput(text).matchAll(/timestamp_ms:([\d.]+) name:(\S+) nr_bytes:(\d+) nr_ops:(\d+)/g)) {
    out.push({ timestampMs: Number(m[1]), name: m[2]!, bytes: Number(m[3]), ops: Number(m[4]) });
  }
  return out;
}

/**
 * Parse `uperf -v -a -R -i <s> -m <profile>` output. Counters are cumulative per transaction
 * and timestamps epoch milliseconds. The data transaction is the `Txn` with the most bytes
 * (Txn2 in the stream profile: connect, data, disconnect); interval rates are deltas between
 * its lines; the whole-run figure comes from the `Total` line (or the last data line).
 */
export function parseUperf(text: string, where = 'uperf', protocol = 'tcp'): NetResult {
  const t = cleanOutput(text);
  if (/\*\*\* Slave aborted/.test(t)) throw new RunError('net.uperf.aborted', `${where}: uperf slave aborted`);
  const errs = /WARNING: (\d+) Errors? detected during run/.exec(t);
  const samples = uperfSamples(t);
  if (samples.length === 0) {
    const first = t.trim().split('\n').slice(0, 3).join(' | ');
    throw new RunError('net.uperf.no_samples', `${where}: no "timestamp_ms: … nr_bytes" lines in the uperf output (was -R given?) (${first.slice(0, 300)})`);
  }
  const txns = new Map<string, UperfSample[]>();
  for (const s of samples) if (/^Txn\d+$/.test(s.name)) txns.set(s.name, [...(txns.get(s.name) ?? []), s]);
  let data: UperfSample[] = [];
  let dataName = '';
  for (const [name, list] of txns) {
    const last = list[list.length - 1]!;
    if (data.length === 0 || last.bytes > data[data.length - 1]!.bytes) {
      data = list;
      dataName = name;
    }
  }
  const r = emptyResult('uperf', protocol);
  const t0 = data[0]?.timestampMs ?? samples[0]!.timestampMs;
  for (let i = 1; i < data.length; i++) {
    const a = data[i - 1]!;
    const b = data[i]!;
    const dt = (b.timestampMs - a.timestampMs) / 1000;
    if (dt <= 0) continue;
    r.intervals.push({
      start: (a.timestampMs - t0) / 1000,
      end: (b.timestampMs - t0) / 1000,
      bitsPerSecond: ((b.bytes - a.bytes) * 8) / dt,
      opsPerSecond: (b.ops - a.ops) / dt,
    });
  }
  const total = samples.filter((s) => s.name === 'Total').pop();
  const lastData = data[data.length - 1];
  // Whole-run rate: the Total line's bytes over the time from the first data sample to it.
  const endSample = total ?? lastData;
  if (endSample && endSample.timestampMs > t0) {
    const secs = (endSample.timestampMs - t0) / 1000;
    r.seconds = secs;
    r.throughputBitsPerSecond = (endSample.bytes * 8) / secs;
    r.throughputOpsPerSecond = endSample.ops / secs;
  }
  const master = /^master\s+([\d.]+)s\s+(\S+)\s+(\S+)\s+(\d+)\s+([\d.]+)/m.exec(t);
  if (master) r.extra.master = { seconds: Number(master[1]), data: master[2], throughput: master[3], operations: Number(master[4]), errors: Number(master[5]) };
  r.extra.dataTransaction = dataName || null;
  r.extra.errors = errs ? Number(errs[1]) : 0;
  if (errs) throw new RunError('net.uperf.errors', `${where}: uperf reported ${errs[1]} errors during the run`);
  if (r.throughputBitsPerSecond === null) throw new RunError('net.uperf.no_throughput', `${where}: uperf output has too few samples for a rate`);
  return r;
}
