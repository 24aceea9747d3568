/**
 * The energy lines of every run's printed summary (ingest, net, matrix, race), from run.json's
 * `energy`: the total with its kind, each machine's figure with its source, kind and coverage,
 * idle energy from the baseline (its date, per-machine watts, stale or not) and dynamic energy;
 * without a baseline, ONE line telling how to take one. Rows are [label, text] for the fronts' tables.
 */
import type { EnergyFigure } from '../runs/record.js';

const j = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${v.toLocaleString('en-US', { maximumFractionDigits: 2 })} J`);
const pct = (f: number): string => `${(f * 100).toFixed(f < 1 && f > 0.995 ? 1 : 0)} %`;
const w = (v: number): string => `${v.toLocaleString('en-US', { maximumFractionDigits: 2 })} W`;

export interface EnergySummaryOptions {
  experiment: string;
  /** Window seconds (for the idle = watts × seconds line). */
  seconds?: number;
  /** Messages acknowledged in the window (ingest): msg/J both ways. */
  messages?: number;
}

export function energySummaryRows(e: EnergyFigure | undefined, o: EnergySummaryOptions): string[][] {
  if (!e) return [['energy', '— (no measurement window)']];
  if (e.error) return [['energy', `unavailable: ${e.error}`]];
  const rows: string[][] = [];
  const mean = e.meanWatts === null || e.meanWatts === undefined ? '' : `, mean ${w(e.meanWatts)}`;
  const machines = e.machines ?? [];
  rows.push(['energy (total)', `${j(e.totalJoules)}${o.seconds ? ` over ${o.seconds.toFixed(1)} s` : ''}${mean}${e.kind ? `, ${e.kind}` : ''} — ${machines.length} machine${machines.length === 1 ? '' : 's'}, each counted once`]);
  for (const m of machines) {
    rows.push([
      `  machine ${m.machine}`,
      `${j(m.joules)} from ${m.source} (${m.kind}, coverage ${pct(m.coverage)}, ${m.samples} samples${m.gaps ? `, ${m.gaps} gaps` : ''}); hosts ${m.hosts.join(', ')}${m.note ? `; ${m.note}` : ''}`,
    ]);
  }
  const b = e.baseline;
  if (!b || b.status === 'none') {
    rows.push(['idle / dynamic', `— no idle baseline: take one with \`entrypoint baseline ${o.experiment}\` on the idle, set-up experiment`]);
  } else {
    const watts = machines.filter((m) => m.idleWatts !== null).map((m) => `${m.machine} ${w(m.idleWatts!)} (${m.idleSource})`);
    const when = b.measuredAt ? `baseline of ${b.measuredAt}` : 'baseline';
    const stale = b.stale ? '; STALE: measured before the last setup, take it again' : '';
    const missing = b.missing.length ? `; no baseline for ${b.missing.join(', ')}` : '';
    rows.push(['idle', `${j(e.idleJoules)} = ${watts.join(' + ') || '—'}${o.seconds ? ` × ${o.seconds.toFixed(1)} s` : ''} (${when}${stale}${missing})`]);
    rows.push(['dynamic', `${j(e.dynamicJoules)} (total − idle${e.dynamicJoules !== null && e.dynamicJoules !== undefined && e.dynamicJoules < 0 ? ': below the idle baseline' : ''})`]);
  }
  if (o.messages !== undefined) {
    const per = (x: number | null | undefined): string => (x && x > 0 ? (o.messages! / x).toLocaleString('en-US', { maximumFractionDigits: 3 }) : '—');
    rows.push(['msg/J', `${per(e.totalJoules)} per total J, ${per(e.dynamicJoules)} per dynamic J`]);
  }
  return rows;
}
