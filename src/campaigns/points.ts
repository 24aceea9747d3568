/**
 * Per-point statistics of a sweep (over the repetitions of each point) and sweep.csv. Pure.
 */
import { figuresOf, POINT_FIGURES, type RecordLike } from './figures.js';
import type { GridPoint } from './grid.js';
import type { SweepPoint, SweepRunEntry } from './records.js';
import { summarize, type Summary } from './stats.js';

/** Statistics of one point from the completed run records of its repetitions. */
export function pointStats(
  point: GridPoint,
  entries: SweepRunEntry[],
  records: Map<string, RecordLike>,
  cvThreshold: number,
): SweepPoint {
  const mine = entries.filter((e) => e.pointKey === point.key && e.status === 'completed');
  const recs = mine.map((e) => records.get(e.runId)).filter((r): r is RecordLike => r !== undefined);
  const figs = recs.map(figuresOf);
  const stats: SweepPoint['stats'] = {};
  for (const f of POINT_FIGURES) stats[f.key] = summarize(figs.map((x) => x[f.key]));
  if (mine.some((e) => e.capacity !== undefined)) stats.capacity = summarize(mine.map((e) => e.capacity));
  const flagged = Object.entries(stats)
    .filter(([, s]) => s !== undefined && s.cv !== null && s.cv > cvThreshold)
    .map(([k]) => k);
  return { key: point.key, index: point.index, assignments: point.assignments, runs: mine.map((e) => e.runId), stats, flagged };
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(Number(v.toPrecision(8))) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** sweep.csv: one line per point; per figure n, mean, sd, ci95_low, ci95_high, cv; then flags. */
export function sweepCsv(factorPaths: string[], points: SweepPoint[]): string {
  const keys = [...POINT_FIGURES.map((f) => f.key as string), ...(points.some((p) => p.stats.capacity) ? ['capacity'] : [])];
  const header = [...factorPaths, 'runs', ...keys.flatMap((k) => ['n', 'mean', 'sd', 'ci95_low', 'ci95_high', 'cv'].map((s) => `${snake(k)}_${s}`)), 'flagged'];
  const lines = [header.join(',')];
  for (const p of points) {
    const row: unknown[] = [...factorPaths.map((f) => p.assignments[f]), p.runs.length];
    for (const k of keys) {
      const s = (p.stats as Record<string, Summary | undefined>)[k];
      row.push(s?.n ?? 0, s?.mean, s?.sd, s?.ci95?.low, s?.ci95?.high, s?.cv);
    }
    row.push(p.flagged.map(snake).join(' '));
    lines.push(row.map(cell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** `p99Ms` → `p99_ms`, `msgPerJ` → `msg_per_j`. */
export function snake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
