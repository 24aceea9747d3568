/**
 * What a report shows, as plain data (built by app/report.ts from the records; rendered here).
 */
import type { RunFigures } from '../figures.js';
import type { SweepPoint } from '../records.js';
import type { Summary } from '../stats.js';
import type { Bracket, Trial } from '../search/strategy.js';

export interface ReportRun {
  id: string;
  status: string;
  workload: string;
  startedAt: string;
  /** Link to its run.json, relative to the report file. */
  href: string;
  /** The parameters shown in the table (flat). */
  params: Record<string, string | number | boolean>;
  figures: RunFigures;
  window?: { start: number; end: number };
  /** Configuration label (the sweep point's key, or the search's overrides). */
  config: string;
  campaign?: string;
}

export interface ReportSearch {
  id: string;
  config: string;
  unit: string;
  capacity: number | null;
  bracket: Bracket;
  withinPrecision: boolean;
  trials: Trial[];
}

export interface PowerSeries {
  /** One line per physical machine. */
  points: Array<{ machine: string; t: number; watts: number }>;
  source: string;
}

export interface ComparisonSide {
  label: string;
  n: number;
  throughput: Summary;
  p99Ms: Summary;
  msgPerJ: Summary;
}

export interface ReportData {
  experiment: string;
  generatedAt: string;
  /** What the report covers: "sweep sweep-ab12 (12 runs)" or "all runs". */
  scope: string;
  runs: ReportRun[];
  sweep?: { id: string; factors: string[]; repetitions: number; cvThreshold: number; points: SweepPoint[] };
  searches: ReportSearch[];
  /** Power over time, or why there is none. */
  power: PowerSeries | { unavailable: string };
  compare?: { a: ComparisonSide; b: ComparisonSide } | { unavailable: string };
}

export interface RenderedFigure {
  id: string;
  title: string;
  /** Units, source and number of repetitions, in words. */
  caption: string;
  /** The SVG, or why the figure could not be drawn. */
  svg?: string;
  unavailable?: string;
  /** Mark classes a reader should find in the SVG (checked by the browser test). */
  marks: string[];
}
