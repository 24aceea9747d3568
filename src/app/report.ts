/**
 * `entrypoint report <exp> [--sweep id] [--compare a,b]`: gather the run records, the searches and
 * the sweeps of an experiment from results/<exp>/, the power series of its machines from Prometheus
 * when it is reachable, and write one self-contained HTML file with SVG figures rendered here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { resultsDir, stateDir } from '../core/paths.js';
import { figuresOf, type RecordLike } from '../campaigns/figures.js';
import { listCampaigns, readCampaign, type SearchRecord, type SweepRecord } from '../campaigns/records.js';
import { summarize } from '../campaigns/stats.js';
import { reportHtml, renderFigures } from '../campaigns/report/html.js';
import type { ComparisonSide, PowerSeries, RenderedFigure, ReportData, ReportRun, ReportSearch } from '../campaigns/report/model.js';
import { PrometheusClient } from '../metrics/prometheus.js';
import { readState } from './state.js';

export interface ReportOptions {
  experiment: string;
  sweep?: string;
  compare?: string;
  /** Output file (default results/<exp>/report[-<sweep>].html). */
  out?: string;
  /** Skip the Prometheus range queries (no power figure). */
  noPrometheus?: boolean;
}

export interface ReportOutcome {
  path: string;
  figures: RenderedFigure[];
  data: ReportData;
}

/** Every run record of an experiment (campaign folders and unreadable files left out). */
export function readRunRecords(exp: string): RecordLike[] {
  const dir = resultsDir(exp);
  if (!existsSync(dir)) return [];
  const out: RecordLike[] = [];
  for (const d of readdirSync(dir).sort()) {
    const p = join(dir, d, 'run.json');
    if (!existsSync(p)) continue;
    try {
      const r = JSON.parse(readFileSync(p, 'utf8')) as RecordLike;
      if (r && typeof r.id === 'string' && r.parameters) out.push(r);
    } catch {
      /* a record cut short: not shown */
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

const SHOWN_PARAMS = ['broker', 'driver', 'load', 'message_size', 'partitions', 'instances', 'acks', 'duration', 'warmup', 'tool'];

function flatParams(rec: RecordLike): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const k of SHOWN_PARAMS) {
    const v = rec.parameters[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

function resolveId(exp: string, kind: 'sweep' | 'search', ref: string): string {
  const id = ref.startsWith(`${kind}-`) ? ref : `${kind}-${ref}`;
  const known = listCampaigns(exp, kind);
  if (!known.includes(id)) {
    throw new UsageError(`report.unknown_${kind}`, `no ${kind} ${ref} in ${relative(process.cwd(), resultsDir(exp)) || '.'}` + (known.length ? `; known: ${known.join(', ')}` : `; this experiment has no ${kind} yet`));
  }
  return id;
}

function sideOf(label: string, runs: RecordLike[]): ComparisonSide {
  const figs = runs.filter((r) => r.status === 'completed').map(figuresOf);
  return { label, n: figs.length, throughput: summarize(figs.map((f) => f.throughput)), p99Ms: summarize(figs.map((f) => f.p99Ms)), msgPerJ: summarize(figs.map((f) => f.msgPerJ)) };
}

/** The runs one side of --compare names: a sweep, a search, a sweep point key, or `path=value`. */
function selectSide(sel: string, runs: RecordLike[], sweeps: SweepRecord[], searches: SearchRecord[]): RecordLike[] | undefined {
  const sw = sweeps.find((s) => s.id === sel || s.id === `sweep-${sel}`);
  if (sw) return runs.filter((r) => r.campaign?.id === sw.id || sw.runs.some((e) => e.runId === r.id));
  const se = searches.find((s) => s.id === sel || s.id === `search-${sel}`);
  if (se) return runs.filter((r) => se.trials.some((t) => t.runId === r.id && t.kind === 'fixed' && t.pass));
  const m = /^([A-Za-z0-9_.]+)=(.*)$/.exec(sel);
  if (!m) return undefined;
  const [, path, value] = m as unknown as [string, string, string];
  const last = path.split('.').pop()!;
  return runs.filter((r) => {
    const point = r.campaign?.point ?? '';
    if (point.split(', ').includes(`${path}=${value}`)) return true;
    return !r.campaign?.point && String(r.parameters[last]) === value;
  });
}

function configLabel(r: RecordLike, searches: SearchRecord[]): string {
  if (r.campaign?.point) return r.campaign.point;
  const s = r.campaign?.kind === 'search' ? searches.find((x) => x.id === r.campaign!.id) : undefined;
  if (s) return Object.entries(s.overrides).map(([k, v]) => `${k}=${String(v)}`).join(', ') || s.id;
  const p = r.parameters;
  return [p.broker, p.message_size !== undefined ? `${String(p.message_size)} B` : undefined, p.partitions !== undefined ? `${String(p.partitions)} partitions` : undefined].filter(Boolean).join(', ') || r.workload;
}

/** Power per physical machine from Prometheus over the runs' time span, or why there is none. */
async function powerSeries(exp: string, runs: RecordLike[]): Promise<PowerSeries | { unavailable: string }> {
  const windows = runs.filter((r) => r.window).map((r) => r.window!);
  if (!windows.length) return { unavailable: 'no run with a measurement window' };
  const st = readState(stateDir(exp));
  const url = st?.endpoints.prometheus_url;
  if (!url) return { unavailable: `no Prometheus in the state of ${exp} (not set up, or set up without monitoring): power cannot be queried` };
  const prom = new PrometheusClient(url);
  if (!(await prom.ready().catch(() => false))) return { unavailable: `Prometheus at ${url} does not answer (the cluster may have been released): the run records keep their energy figures` };
  const start = Math.min(...windows.map((w) => w.start)) - 30;
  const end = Math.max(...windows.map((w) => w.end)) + 30;
  const step = Math.max(2, Math.ceil((end - start) / 600));
  const hosts = st?.platform?.hosts ?? [];
  const machineOfInstance = (instance: string): string => {
    const addr = instance.replace(/:\d+$/, '');
    const h = hosts.find((x) => x.address === addr || x.name === addr);
    return h ? (h.machine ?? h.name) : addr;
  };
  const tries: Array<[string, string]> = [
    [`rate(scaph_host_energy_microjoules[${Math.max(4 * step, 15)}s]) / 1e6`, 'Scaphandre (rate of scaph_host_energy_microjoules)'],
    [`sum by (instance) (rate(node_rapl_package_joules_total[${Math.max(4 * step, 15)}s]))`, 'node_exporter RAPL (rate of node_rapl_package_joules_total)'],
  ];
  for (const [expr, source] of tries) {
    const m = await prom.queryRange(expr, start, end, step).catch(() => []);
    if (!m.length) continue;
    // One line per machine: its first host's series (hosts of one machine read the same counters).
    const seen = new Set<string>();
    const points: PowerSeries['points'] = [];
    for (const item of m) {
      const machine = machineOfInstance(item.metric.instance ?? 'unknown');
      if (seen.has(machine)) continue;
      seen.add(machine);
      for (const [t, v] of item.values) if (Number.isFinite(Number(v))) points.push({ machine, t: Number(t), watts: Number(v) });
    }
    return { points, source };
  }
  return { unavailable: `Prometheus at ${url} has no Scaphandre or RAPL energy counter over the runs' time span` };
}

export async function buildReportData(opts: ReportOptions): Promise<ReportData> {
  const exp = opts.experiment;
  if (!existsSync(resultsDir(exp))) {
    throw new UsageError('report.no_results', `no results for experiment ${exp} in ${relative(process.cwd(), resultsDir(exp)) || resultsDir(exp)}`, {
      hint: `run \`entrypoint ingest ${exp}\`, \`entrypoint search ${exp}\` or \`entrypoint sweep ${exp}\` first`,
    });
  }
  let runs = readRunRecords(exp);
  const sweeps = listCampaigns(exp, 'sweep').map((id) => readCampaign<SweepRecord>(exp, id, 'sweep.json')!);
  let searches = listCampaigns(exp, 'search').map((id) => readCampaign<SearchRecord>(exp, id, 'search.json')!);
  let sweep: SweepRecord | undefined;
  let scope = `all ${runs.length} runs of ${exp}`;
  if (opts.sweep) {
    const id = resolveId(exp, 'sweep', opts.sweep);
    sweep = sweeps.find((s) => s.id === id)!;
    const ids = new Set(sweep.runs.map((e) => e.runId));
    const searchIds = new Set(sweep.runs.map((e) => e.searchId).filter(Boolean));
    searches = searches.filter((s) => searchIds.has(s.id));
    for (const s of searches) for (const t of s.trials) if (t.runId) ids.add(t.runId);
    runs = runs.filter((r) => ids.has(r.id) || r.campaign?.id === id);
    scope = `sweep ${id} (${sweep.factors.map((f) => f.path).join(' × ')}, ${sweep.repetitions} repetitions)`;
  } else if (sweeps.length) {
    sweep = sweeps[sweeps.length - 1];
    scope += `; sweep figure: the latest sweep, ${sweep!.id}`;
  }
  if (!runs.length) throw new UsageError('report.no_runs', `no run records for ${opts.sweep ? `sweep ${opts.sweep}` : exp} in ${relative(process.cwd(), resultsDir(exp)) || '.'}`);
  const reportRuns: ReportRun[] = runs.map((r) => ({
    id: r.id,
    status: r.status,
    workload: r.workload,
    startedAt: r.startedAt,
    href: relative(dirname(reportPath(opts)), join(resultsDir(exp), r.id, 'run.json')),
    params: flatParams(r),
    figures: figuresOf(r),
    ...(r.window ? { window: { start: r.window.start, end: r.window.end } } : {}),
    config: configLabel(r, searches),
    ...(r.campaign ? { campaign: `${r.campaign.id}${r.campaign.trial ? ` trial ${r.campaign.trial}` : ''}${r.campaign.repetition ? ` rep ${r.campaign.repetition}` : ''}` } : {}),
  }));
  const reportSearches: ReportSearch[] = searches
    .filter((s) => s.result)
    .map((s) => ({
      id: s.id,
      config: Object.entries(s.overrides).map(([k, v]) => `${k}=${String(v)}`).join(', ') || s.id,
      unit: s.load.unit,
      capacity: s.result!.capacity,
      bracket: s.result!.bracket,
      withinPrecision: s.result!.withinPrecision,
      trials: s.trials,
    }));
  let compare: ReportData['compare'];
  if (opts.compare) {
    const parts = splitCompare(opts.compare);
    const all = readRunRecords(exp);
    const sides = parts.map((p) => ({ p, runs: selectSide(p, all, sweeps, searches) }));
    const bad = sides.find((s) => s.runs === undefined);
    if (bad) throw new UsageError('report.bad_compare', `--compare: "${bad.p}" is neither a sweep, a search, nor path=value (e.g. --compare ingest.partitions=1,ingest.partitions=3)`);
    const empty = sides.find((s) => s.runs!.length === 0);
    compare = empty ? { unavailable: `--compare: no run matches "${empty.p}"` } : { a: sideOf(parts[0]!, sides[0]!.runs!), b: sideOf(parts[1]!, sides[1]!.runs!) };
  }
  return {
    experiment: exp,
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    scope,
    runs: reportRuns,
    ...(sweep
      ? { sweep: { id: sweep.id, factors: sweep.factors.map((f) => f.path), repetitions: sweep.repetitions, cvThreshold: sweep.cvThreshold, points: sweep.points } }
      : {}),
    searches: reportSearches,
    power: opts.noPrometheus ? { unavailable: 'Prometheus queries skipped (--no-prometheus)' } : await powerSeries(exp, runs),
    ...(compare ? { compare } : {}),
  };
}

/** `a,b` where each side may itself be `path=value` (split at the comma before the second side). */
export function splitCompare(s: string): [string, string] {
  const parts = s.split(',');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new UsageError('report.bad_compare', `--compare ${s}: expected two sides separated by one comma (e.g. --compare sweep-ab12,sweep-cd34 or ingest.partitions=1,ingest.partitions=3)`);
  }
  return [parts[0].trim(), parts[1].trim()];
}

/** Where the report goes: --out, else results/<exp>/report[-sweep-<id>].html. */
export function reportPath(opts: ReportOptions): string {
  if (opts.out) return resolve(opts.out);
  const name = opts.sweep ? `report-${opts.sweep.startsWith('sweep-') ? opts.sweep : `sweep-${opts.sweep}`}.html` : 'report.html';
  return join(resultsDir(opts.experiment), name);
}

export async function writeReport(opts: ReportOptions): Promise<ReportOutcome> {
  const data = await buildReportData(opts);
  const figures = await renderFigures(data);
  const path = reportPath(opts);
  writeFileAtomic(path, reportHtml(data, figures));
  return { path, figures, data };
}
