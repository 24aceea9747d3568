/**
 * The sweep grid: factors over config paths, their cartesian product (the points), the order in
 * which the runs go (sequential, or shuffled with a seed), and what is left when a sweep resumes.
 * Pure: validation against the experiment schema is done by the caller, point by point.
 */
import { createHash } from 'node:crypto';
import yaml from 'js-yaml';
import { UsageError } from '../core/errors.js';

export type FactorValue = string | number | boolean;

export interface Factor {
  /** A config path, `ingest.message_size`. */
  path: string;
  values: FactorValue[];
  /** Where the factor was given (for messages): `experiments/x.yaml: sweep.factors` or `--grid`. */
  from: string;
}

export interface GridPoint {
  /** Stable identity of the point: `path=value` pairs in factor order, joined with `, `. */
  key: string;
  /** 0-based index in the cartesian product (factor order, last factor varies fastest). */
  index: number;
  /** Config path → value for this point. */
  assignments: Record<string, FactorValue>;
}

/** One run of the sweep: a point and its repetition (1-based). */
export interface ScheduledRun {
  point: GridPoint;
  repetition: number;
}

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

/** Check one factor's shape (path syntax, non-empty, no duplicate values). Throws UsageError. */
export function checkFactor(f: Factor): void {
  if (!PATH_RE.test(f.path)) {
    throw new UsageError('sweep.bad_factor', `${f.from}: "${f.path}" is not a config path (expected section.key, e.g. ingest.message_size, or a top-level key such as runtime)`);
  }
  if (f.values.length === 0) throw new UsageError('sweep.empty_factor', `${f.from}: factor ${f.path} has no values (the grid would be empty)`);
  const seen = new Set<string>();
  for (const v of f.values) {
    const k = JSON.stringify(v);
    if (seen.has(k)) throw new UsageError('sweep.duplicate_value', `${f.from}: factor ${f.path} lists ${k} twice`);
    seen.add(k);
  }
}

/** Parse `--grid path=a,b,c`; each value is read as YAML (numbers, booleans, `max`, strings). */
export function parseGridFlag(expr: string): Factor {
  const eq = expr.indexOf('=');
  const from = `--grid ${expr}`;
  if (eq <= 0) throw new UsageError('sweep.bad_grid', `${from}: expected path=value,value,… (e.g. --grid ingest.message_size=512,4096)`);
  const path = expr.slice(0, eq).trim();
  const raw = expr.slice(eq + 1);
  const values = raw === '' ? [] : raw.split(',').map((s) => parseScalar(s.trim(), from));
  const f: Factor = { path, values, from };
  checkFactor(f);
  return f;
}

function parseScalar(s: string, from: string): FactorValue {
  if (s === '') throw new UsageError('sweep.bad_grid', `${from}: an empty value between commas`);
  let v: unknown;
  try {
    v = yaml.load(s);
  } catch {
    v = s;
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return s;
}

/** Combine factors from the file and from flags: a flag replaces the file's factor of the same path. */
export function mergeFactors(fromFile: Factor[], fromFlags: Factor[]): Factor[] {
  const out = fromFile.filter((f) => !fromFlags.some((g) => g.path === f.path));
  const seen = new Set<string>();
  for (const g of fromFlags) {
    if (seen.has(g.path)) throw new UsageError('sweep.duplicate_factor', `--grid ${g.path} is given twice`);
    seen.add(g.path);
  }
  return [...out, ...fromFlags];
}

export function pointKey(assignments: Record<string, FactorValue>, order: string[]): string {
  return order.map((p) => `${p}=${String(assignments[p])}`).join(', ');
}

/** The cartesian product of the factors, in factor order (the last factor varies fastest). */
export function expandGrid(factors: Factor[]): GridPoint[] {
  if (factors.length === 0) throw new UsageError('sweep.no_factors', 'the sweep has no factors: add a sweep.factors section or --grid path=a,b');
  factors.forEach(checkFactor);
  const paths = factors.map((f) => f.path);
  const dup = paths.find((p, i) => paths.indexOf(p) !== i);
  if (dup) throw new UsageError('sweep.duplicate_factor', `factor ${dup} is given twice`);
  const prefix = paths.find((p) => paths.some((q) => q !== p && q.startsWith(p + '.')));
  if (prefix) throw new UsageError('sweep.overlapping_factors', `factor ${prefix} contains another factor (${paths.find((q) => q.startsWith(prefix + '.'))})`);
  let combos: Array<Record<string, FactorValue>> = [{}];
  for (const f of factors) combos = combos.flatMap((c) => f.values.map((v) => ({ ...c, [f.path]: v })));
  return combos.map((assignments, index) => ({ key: pointKey(assignments, paths), index, assignments }));
}

/** A small seeded generator (mulberry32): the same seed gives the same order on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export interface OrderOptions {
  repetitions: number;
  order: 'sequential' | 'random';
  seed: number;
  /**
   * Paths whose change needs the cluster set up again (broker count, runtime, broker kind). With
   * `random`, runs are shuffled inside each group of equal values of these paths and the groups
   * are shuffled, so the cluster is set up once per group instead of once per run.
   */
  setupPaths?: string[];
}

/**
 * The runs of the sweep in the order they go. `sequential`: point by point, its repetitions one
 * after the other. `random`: every (point, repetition) shuffled with the seed (see `setupPaths`).
 */
export function scheduleRuns(points: GridPoint[], o: OrderOptions): ScheduledRun[] {
  if (!Number.isInteger(o.repetitions) || o.repetitions < 1) {
    throw new UsageError('sweep.bad_repetitions', `repetitions must be a whole number ≥ 1 (got ${o.repetitions})`);
  }
  const runs = points.flatMap((point) => Array.from({ length: o.repetitions }, (_, r) => ({ point, repetition: r + 1 })));
  if (o.order === 'sequential') return runs;
  const rnd = seededRandom(o.seed);
  const setup = o.setupPaths ?? [];
  const groupOf = (r: ScheduledRun): string => JSON.stringify(setup.map((p) => r.point.assignments[p] ?? null));
  const groups = new Map<string, ScheduledRun[]>();
  for (const r of runs) groups.set(groupOf(r), [...(groups.get(groupOf(r)) ?? []), r]);
  return shuffle([...groups.values()], rnd).flatMap((g) => shuffle(g, rnd));
}

/** What a sweep already has for one scheduled run (from sweep.json or a run record). */
export interface DoneRun {
  pointKey: string;
  repetition: number;
  runId: string;
  /** Wall-clock seconds the run took (its share of the sweep, set-up excluded). */
  seconds?: number;
}

/** The runs still to do, in schedule order, given those done (matched by point key and repetition). */
export function remainingRuns(schedule: ScheduledRun[], done: DoneRun[]): ScheduledRun[] {
  const have = new Set(done.map((d) => `${d.pointKey}#${d.repetition}`));
  return schedule.filter((r) => !have.has(`${r.point.key}#${r.repetition}`));
}

/**
 * Estimated seconds for the runs left: their count × the mean measured duration of the runs done
 * so far (null when none has been measured yet).
 */
export function etaSeconds(left: number, done: DoneRun[]): number | null {
  const ds = done.map((d) => d.seconds).filter((s): s is number => typeof s === 'number' && s > 0);
  if (left === 0) return 0;
  if (ds.length === 0) return null;
  return (left * ds.reduce((a, b) => a + b, 0)) / ds.length;
}

/** `1 h 02 min`, `4 min 10 s`, `35 s`. */
export function formatSeconds(s: number): string {
  const t = Math.round(s);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

/** A short stable id from a canonical JSON of what defines a campaign. */
export function campaignHash(what: unknown): string {
  return createHash('sha256').update(canonicalJson(what)).digest('hex').slice(0, 10);
}

/** JSON with object keys sorted (stable across runs and machines). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
