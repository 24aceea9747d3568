import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/files.js';
import { resultsDir } from '../core/paths.js';
import type { RunWindow } from '../core/types.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'aborted';

export type { RunWindow } from '../core/types.js';

/**
 * Energy over the run's measurement window (filled by src/metrics/energy: `toEnergyFigure`), per
 * physical machine with its source, kind and coverage; idle energy from the stored baseline and
 * dynamic energy; per-host figures are an attribution of the machine's. Fields beyond `totalJoules`,
 * `perHost` and `sources` are absent from records written before issue 12.
 */
export interface EnergyFigure {
  /** Σ over machines, J (null when a machine has no figure). */
  totalJoules: number | null;
  /** Σ over machines of the baseline's idle watts × window seconds, J (null without a full baseline). */
  idleJoules?: number | null;
  /** totalJoules − idleJoules, J (may be negative). */
  dynamicJoules?: number | null;
  meanWatts?: number | null;
  /** measured (counters, wattmetres), estimated (the CPU model), mixed. */
  kind?: 'measured' | 'estimated' | 'mixed' | null;
  /** The worst machine's covered fraction of the window, 0..1. */
  coverage?: number;
  sources: string[];
  machines?: Array<{
    machine: string;
    hosts: string[];
    reader: string | null;
    joules: number | null;
    source: string;
    kind: 'measured' | 'estimated';
    coverage: number;
    samples: number;
    gaps: number;
    idleWatts: number | null;
    idleJoules: number | null;
    idleSource: string | null;
    dynamicJoules: number | null;
    note?: string;
  }>;
  perHost: Array<{ host: string; machine?: string; joules: number | null; share?: number; basis?: string; source: string; samples?: number; gaps?: number; note?: string }>;
  attribution?: string;
  /** How the idle baseline was applied: used / partial / none, its date, stale (older than the last setup), notes. */
  baseline?: { status: 'used' | 'partial' | 'none'; measuredAt?: string; stale: boolean; ageSeconds?: number; missing: string[]; notes: string[] };
  /** Set when there is no account at all (no Prometheus, the account failed): why. */
  error?: string;
}

/**
 * One run's record: results/<exp>/<run-id>/run.json. The shape is documented in the README;
 * fields are added, never renamed.
 */
/**
 * The campaign a run belongs to (`entrypoint search` / `entrypoint sweep`): its kind and id, and
 * the sweep point and repetition, or the search trial. Set by the run context from the start, so
 * even a run that failed or was interrupted says which campaign it was part of.
 */
export interface CampaignTag {
  kind: 'search' | 'sweep';
  id: string;
  /** The sweep point's key (`ingest.message_size=512,ingest.partitions=3`). */
  point?: string;
  /** 1-based repetition of the point. */
  repetition?: number;
  /** 1-based trial of a search. */
  trial?: number;
}

export interface RunRecord {
  schema: 'greenrace.run/1';
  id: string;
  experiment: string;
  workload: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  parameters: Record<string, unknown>;
  window?: RunWindow;
  results?: Record<string, unknown>;
  energy?: EnergyFigure;
  /** Where the window was pushed (Pushgateway job greenrace_run), and the push's failure if any. */
  windowPush?: { url: string; job: string; error?: string };
  hosts?: Array<Record<string, unknown>>;
  /** Which host ran what (servers, clients, generators): the runtime's placement. */
  placement?: Array<{ host: string; address: string; runs: string[] }>;
  versions?: Record<string, string>;
  error?: { code: string; message: string };
  files?: string[];
  /** Present when a campaign made this run. */
  campaign?: CampaignTag;
  /**
   * Where the run's wall time went, in seconds (wall clock of the controller): `prepare` from the
   * run's context (experiment loaded) to the shared start (topic, staging, generators started and
   * ready, the start lead), `warmup` and `measure` as run, `collect` from the window's end to the
   * record's end (generators stopped, summaries and logs fetched, topic, energy queries); `total`
   * their sum and `overhead` = total − warm-up − measure (the run's fixed cost). In a campaign the
   * energy account may run after `collect`, beside the next run's prepare (`energy_s`).
   */
  phases?: RunPhases;
}

export interface RunPhases {
  prepare_s: number;
  warmup_s: number;
  measure_s: number;
  collect_s: number;
  total_s: number;
  overhead_s: number;
  /** A campaign's run handed back before its energy account: the account's seconds, after `collect`, while the next run prepared. */
  energy_s?: number;
}

/** The phases from their boundaries (epoch ms): start, shared start, window start and end, end. */
export function runPhases(t: { start: number; sharedStart: number; windowStart: number; windowEnd: number; end: number }): RunPhases {
  const s = (ms: number): number => Math.round(Math.max(0, ms)) / 1000;
  const prepare = s(t.sharedStart - t.start);
  const warmup = s(t.windowStart - t.sharedStart);
  const measure = s(t.windowEnd - t.windowStart);
  const collect = s(t.end - t.windowEnd);
  const total = s(t.end - t.start);
  return { prepare_s: prepare, warmup_s: warmup, measure_s: measure, collect_s: collect, total_s: total, overhead_s: Math.round((total - warmup - measure) * 1000) / 1000 };
}

export const runDir = (exp: string, id: string): string => join(resultsDir(exp), id);

/** Write (or rewrite) run.json atomically; call it early and again as the run progresses. */
export function saveRunRecord(rec: RunRecord): string {
  const dir = runDir(rec.experiment, rec.id);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'run.json');
  writeJsonAtomic(path, rec);
  return path;
}

export function loadRunRecord(exp: string, id: string): RunRecord {
  return JSON.parse(readFileSync(join(runDir(exp, id), 'run.json'), 'utf8')) as RunRecord;
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(8).replace(/\.?0+$/, '')) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Append one line to results/<exp>/runs.csv. The header is written with the first line; a line
 * whose columns differ from the existing header goes to runs-<workload>.csv instead of corrupting it.
 */
export function appendRunCsv(exp: string, workload: string, row: Record<string, unknown>): string {
  const dir = resultsDir(exp);
  mkdirSync(dir, { recursive: true });
  const cols = Object.keys(row);
  const header = cols.join(',');
  let path = join(dir, 'runs.csv');
  if (existsSync(path)) {
    const first = readFileSync(path, 'utf8').split('\n', 1)[0];
    if (first !== header) path = join(dir, `runs-${workload}.csv`);
  }
  if (!existsSync(path) || readFileSync(path, 'utf8').length === 0) appendFileSync(path, header + '\n');
  appendFileSync(path, cols.map((c) => csvCell(row[c])).join(',') + '\n');
  return path;
}
