/**
 * The run record's PCP summary, from pmrep's CSV reports of the archive (`-o csv -f %s.%f`, epoch seconds with microseconds):
 * CPU utilisation (mean/max of user, sys, busy), memory used, and bytes in/out per interface.
 */
import { RunError } from '../../core/errors.js';

export interface PmrepTable {
  /** Column names without the Time column, e.g. `network.interface.in.bytes-eth0`. */
  columns: string[];
  /** Epoch seconds per row. */
  times: number[];
  /** rows[i][j]: the value of columns[j] at times[i]; null where pmrep left it empty. */
  rows: Array<Array<number | null>>;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      }
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    }
    else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parse `pmrep -o csv -f %s.%f` output (whole seconds, `-f %s`, parse too). */
export function parsePmrepCsv(text: string, where: string): PmrepTable {
  const lines = text.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
  const head = lines[0] ? splitCsvLine(lines[0]) : [];
  if (head[0] !== 'Time' || head.length < 2) throw new RunError('net.pcp_parse', `${where}: not a pmrep CSV report (header: ${lines[0]?.slice(0, 80) ?? 'none'})`);
  const columns = head.slice(1);
  const times: number[] = [];
  const rows: Array<Array<number | null>> = [];
  for (const l of lines.slice(1)) {
    const f = splitCsvLine(l);
    const t = Number(f[0]);
    if (!Number.isFinite(t)) throw new RunError('net.pcp_parse', `${where}: bad time "${f[0]}" (run pmrep with -f %s.%f)`);
    times.push(t);
    rows.push(columns.map((_, j) => {
      const v = f[j + 1];
      return v === undefined || v === '' ? null : Number(v);
    }));
  }
  return { columns, times, rows };
}

export interface Stat {
  mean: number;
  max: number;
}

export interface InterfaceTraffic {
  inBytes: number;
  outBytes: number;
  /** Mean bytes per second over the recording. */
  inBytesPerSecond: number;
  outBytesPerSecond: number;
  /** Highest rate between two samples. */
  inPeakBytesPerSecond: number;
  outPeakBytesPerSecond: number;
}

export interface PcpSummary {
  samples: number;
  /** Epoch seconds of the first and last sample. */
  start: number | null;
  end: number | null;
  /** Percent of all CPUs; busy = 100 − idle. */
  cpuPercent: { user: Stat | null; sys: Stat | null; busy: Stat | null };
  memory: { usedKiB: Stat | null; physicalKiB: number | null };
  network: Record<string, InterfaceTraffic>;
}

function stat(vals: Array<number | null>): Stat | null {
  const v = vals.filter((x): x is number => x !== null && Number.isFinite(x));
  if (!v.length) return null;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { mean: r(v.reduce((a, b) => a + b, 0) / v.length), max: r(Math.max(...v)) };
}

const col = (t: PmrepTable, name: string): Array<number | null> => {
  const j = t.columns.indexOf(name);
  return j < 0 ? [] : t.rows.map((r) => r[j] ?? null);
};

/** Instances of a per-interface metric: `network.interface.in.bytes-eth0` → eth0 (names may contain "-"). */
function instances(t: PmrepTable, metric: string): string[] {
  return t.columns.filter((c) => c.startsWith(metric + '-')).map((c) => c.slice(metric.length + 1));
}

function traffic(t: PmrepTable, iface: string): InterfaceTraffic {
  const one = (dir: 'in' | 'out'): { total: number; rate: number; peak: number } => {
    const vals = col(t, `network.interface.${dir}.bytes-${iface}`);
    const pts = vals.map((v, i) => [t.times[i]!, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
    if (pts.length < 2) return { total: 0, rate: 0, peak: 0 };
    let total = 0;
    let peak = 0;
    for (let i = 1; i < pts.length; i++) {
      // A counter that went down wrapped or was reset: count from zero.
      const d = pts[i]![1] >= pts[i - 1]![1] ? pts[i]![1] - pts[i - 1]![1] : pts[i]![1];
      total += d;
      const dt = pts[i]![0] - pts[i - 1]![0];
      if (dt > 0) peak = Math.max(peak, d / dt);
    }
    const span = pts[pts.length - 1]![0] - pts[0]![0];
    return { total, rate: span > 0 ? total / span : 0, peak };
  };
  const i = one('in');
  const o = one('out');
  const r = (x: number): number => Math.round(x);
  return { inBytes: i.total, outBytes: o.total, inBytesPerSecond: r(i.rate), outBytesPerSecond: r(o.rate), inPeakBytesPerSecond: r(i.peak), outPeakBytesPerSecond: r(o.peak) };
}

/** The summary from the rates report (CPU %, memory) and the raw counters report (network bytes). */
export function summarisePcp(rates: PmrepTable, counters: PmrepTable): PcpSummary {
  const idle = stat(col(rates, 'kernel.cpu.util.idle'));
  const busy = col(rates, 'kernel.cpu.util.idle').map((v) => (v === null ? null : Math.max(0, 100 - v)));
  const phys = col(rates, 'mem.physmem').filter((v): v is number => v !== null);
  const ifaces = [...new Set([...instances(counters, 'network.interface.in.bytes'), ...instances(counters, 'network.interface.out.bytes')])].sort();
  const sampled = rates.rows.filter((r) => r.some((v) => v !== null)).length;
  return {
    samples: Math.max(sampled, counters.rows.filter((r) => r.some((v) => v !== null)).length),
    start: counters.times[0] ?? rates.times[0] ?? null,
    end: counters.times[counters.times.length - 1] ?? rates.times[rates.times.length - 1] ?? null,
    cpuPercent: { user: stat(col(rates, 'kernel.cpu.util.user')), sys: stat(col(rates, 'kernel.cpu.util.sys')), busy: idle ? stat(busy) : null },
    memory: { usedKiB: stat(col(rates, 'mem.util.used')), physicalKiB: phys.length ? phys[phys.length - 1]! : null },
    network: Object.fromEntries(ifaces.map((i) => [i, traffic(counters, i)])),
  };
}
