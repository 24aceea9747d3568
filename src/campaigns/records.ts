/**
 * The campaign records: results/<exp>/search-<id>/search.json and results/<exp>/sweep-<id>/sweep.json
 * (plus sweep.csv). Each is rewritten atomically after every trial or run, so a crash loses at
 * most the run in progress, and every trial or run is a normal run record linked from here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/files.js';
import { resultsDir } from '../core/paths.js';
import type { FactorValue } from './grid.js';
import type { Summary } from './stats.js';
import type { Bracket, SearchParams, Trial } from './search/strategy.js';
import type { Slo } from './search/slo.js';
import type { PointFigureKey } from './figures.js';

export type CampaignStatus = 'running' | 'completed' | 'failed' | 'aborted';

export interface SearchRecord {
  schema: 'greenrace.search/1';
  id: string;
  experiment: string;
  workload: string;
  status: CampaignStatus;
  startedAt: string;
  endedAt?: string;
  /** The config path searched (`ingest.load`) and its unit. */
  load: { path: string; unit: string };
  /** Overrides every trial shares (--set, flags, a sweep point). */
  overrides: Record<string, unknown>;
  params: SearchParams;
  /** The SLO every trial is judged by (the backlog grace resolved). */
  slo: Slo;
  /** Every trial's warm-up and measured seconds, a ramp step's seconds, and the wait after a failing trial. */
  trial?: { warmupS: number; durationS: number; rampStepS: number; coolDownS?: number };
  seededFrom?: { id: string; capacity: number };
  /** Every trial, each a run record: `run` is the path of its run.json relative to this file. */
  trials: Array<Trial & { run?: string }>;
  result?: {
    capacity: number | null;
    bracket: Bracket;
    withinPrecision: boolean;
    stopReason: string;
    trials: number;
    seconds: number;
    /**
     * The brokers' page cache in the trial that passed at the capacity (its run's
     * results.page_cache): absorbed = its writes stayed under the brokers' background writeback
     * threshold for less than the dirty expiry, so the capacity holds for trials that long only.
     */
    pageCache?: { absorbed: boolean; bytesPerBroker: number; thresholdBytes: number; seconds: number; expireSeconds: number; trial: number };
  };
  error?: { code: string; message: string };
}

export interface SweepRunEntry {
  pointKey: string;
  repetition: number;
  runId: string;
  status: string;
  startedAt: string;
  seconds: number;
  /** With `load: max`: the search of this run (its capacity is the point's figure). */
  searchId?: string;
  capacity?: number | null;
  /** The setup it ran on (a key of `SweepRecord.setups`), when the sweep has setup factors. */
  setup?: string;
}

/** One setup the sweep brought the experiment to (a group of points sharing the setup factors' values). */
export interface SweepSetupEntry {
  /** Canonical JSON of the setup factors' values. */
  key: string;
  /** `roles.broker=2`. */
  label: string;
  assignments: Record<string, FactorValue>;
  /** `as found` (already deployed so), `set up` (from nothing), `set up again` (same hosts), `made again` (killjob, then setup). */
  how: 'as found' | 'set up' | 'set up again' | 'made again';
  at: string;
  seconds: number;
  /** The brokers Kafka's own metadata listed once set up (id -1: could not be asked, with why). */
  brokers?: Array<{ id: number; address: string }>;
}

export interface SweepPoint {
  key: string;
  index: number;
  assignments: Record<string, FactorValue>;
  runs: string[];
  stats: Partial<Record<PointFigureKey | 'capacity', Summary>>;
  /** Figures whose CV exceeds the threshold. */
  flagged: string[];
}

export interface SweepRecord {
  schema: 'greenrace.sweep/1';
  id: string;
  experiment: string;
  workload: string;
  status: CampaignStatus;
  startedAt: string;
  updatedAt: string;
  factors: Array<{ path: string; values: FactorValue[] }>;
  repetitions: number;
  order: 'sequential' | 'random';
  seed: number;
  idleBetweenS: number;
  cvThreshold: number;
  /** Overrides shared by every point (--set). */
  overrides: Record<string, unknown>;
  total: number;
  runs: SweepRunEntry[];
  /** Idle windows recorded between runs (a baseline per window). */
  idle: Array<{ start: number; end: number; afterRun: string }>;
  points: SweepPoint[];
  /** Setups the sweep brought the experiment to, in order (only with setup factors). */
  setups?: SweepSetupEntry[];
  /** In which state the sweep left the experiment's setup (only with setup factors). */
  setupLeft?: string;
  error?: { code: string; message: string };
}

export const campaignDir = (exp: string, id: string): string => join(resultsDir(exp), id);

export function saveSearch(rec: SearchRecord): string {
  const path = join(campaignDir(rec.experiment, rec.id), 'search.json');
  writeJsonAtomic(path, rec);
  return path;
}

export function saveSweep(rec: SweepRecord, csv: string): string {
  const dir = campaignDir(rec.experiment, rec.id);
  writeJsonAtomic(join(dir, 'sweep.json'), rec);
  writeFileAtomic(join(dir, 'sweep.csv'), csv);
  return join(dir, 'sweep.json');
}

export function readCampaign<T>(exp: string, id: string, file: 'search.json' | 'sweep.json'): T | undefined {
  const p = join(campaignDir(exp, id), file);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}

/** Campaign folders of an experiment (`search-…`, `sweep-…`), oldest first by start time. */
export function listCampaigns(exp: string, kind: 'search' | 'sweep'): string[] {
  const dir = resultsDir(exp);
  if (!existsSync(dir)) return [];
  const file = kind === 'search' ? 'search.json' : 'sweep.json';
  return readdirSync(dir)
    .filter((d) => d.startsWith(`${kind}-`) && existsSync(join(dir, d, file)))
    .map((d) => ({ d, t: (JSON.parse(readFileSync(join(dir, d, file), 'utf8')) as { startedAt?: string }).startedAt ?? '' }))
    .sort((a, b) => a.t.localeCompare(b.t))
    .map((x) => x.d);
}
