/**
 * The report's figures as Vega-Lite specs, each with its caption (units, source, repetitions) and
 * the marks a reader should see. A figure without data says why instead of drawing an empty frame.
 */
import { summarize } from '../stats.js';
import type { ComparisonSide, ReportData, ReportRun } from './model.js';
import type { VlSpec } from './render.js';

export interface FigureSpec {
  id: string;
  title: string;
  caption: string;
  spec?: VlSpec;
  unavailable?: string;
  marks: string[];
}

const W = 560;
const H = 300;
const completed = (runs: ReportRun[]): ReportRun[] => runs.filter((r) => r.status === 'completed');
const plural = (n: number, one: string, many = one + 's'): string => `${n} ${n === 1 ? one : many}`;

/** How many repetitions stand behind each configuration, in words. */
function repetitionsText(runs: ReportRun[]): string {
  const per = new Map<string, number>();
  for (const r of runs) per.set(r.config, (per.get(r.config) ?? 0) + 1);
  const counts = [...per.values()];
  if (!counts.length) return 'no runs';
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  return `${plural(runs.length, 'run')} over ${plural(per.size, 'configuration')}, ${lo === hi ? lo : `${lo}–${hi}`} repetition${hi === 1 ? '' : 's'} each`;
}

/** Colour by configuration when there are few, else by status. */
function colourField(runs: ReportRun[]): { field: string; title: string } {
  const n = new Set(runs.map((r) => r.config)).size;
  return n >= 2 && n <= 8 ? { field: 'config', title: 'configuration' } : { field: 'status', title: 'status' };
}

export function throughputFigure(d: ReportData): FigureSpec {
  const runs = d.runs.filter((r) => r.figures.target !== null && r.figures.throughput !== null);
  const base = { id: 'throughput', title: 'Achieved vs target throughput', marks: ['mark-symbol', 'mark-line'] };
  if (!runs.length) return { ...base, caption: '', unavailable: 'no run with a target and an achieved throughput' };
  const max = Math.max(...runs.map((r) => Math.max(r.figures.target!, r.figures.throughput!))) * 1.05;
  const colour = colourField(runs);
  const rows = runs.map((r) => ({ target: r.figures.target, achieved: r.figures.throughput, config: r.config, status: r.status, run: r.id }));
  return {
    ...base,
    caption: `Units: messages per second. Source: the load generators' summaries in each run.json (acknowledged messages over the measurement window, warm-up excluded). Dashed: achieved = target; dotted: 95 % of target (the search's throughput SLO). ${repetitionsText(runs)}.`,
    spec: {
      width: W,
      height: H,
      title: { text: 'Achieved vs target throughput', subtitle: `msg/s · load generators' summaries · ${repetitionsText(runs)}` },
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }, { x: max, y: max }] },
          mark: { type: 'line', strokeDash: [5, 4], color: '#999', strokeWidth: 1 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values: [{ x: 0, y: 0 }, { x: max, y: max * 0.95 }] },
          mark: { type: 'line', strokeDash: [1, 3], color: '#999', strokeWidth: 1 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values: rows },
          mark: { type: 'point', filled: true, opacity: 0.85 },
          encoding: {
            x: { field: 'target', type: 'quantitative', title: 'target load (msg/s)', scale: { domain: [0, max], nice: false } },
            y: { field: 'achieved', type: 'quantitative', title: 'achieved throughput (msg/s)', scale: { domain: [0, max], nice: false } },
            color: { field: colour.field, type: 'nominal', title: colour.title },
            shape: { field: 'status', type: 'nominal', title: 'status' },
            tooltip: [{ field: 'run' }, { field: 'target', format: ',.0f' }, { field: 'achieved', format: ',.0f' }, { field: 'config' }],
          },
        },
      ],
    },
  };
}

export function latencyFigure(d: ReportData): FigureSpec {
  const runs = completed(d.runs).filter((r) => r.figures.target !== null && r.figures.p50Ms !== null);
  const base = { id: 'latency', title: 'Latency percentiles vs load', marks: ['mark-line', 'mark-symbol'] };
  if (!runs.length) return { ...base, caption: '', unavailable: 'no completed run with latency percentiles' };
  const pcts: Array<[keyof ReportRun['figures'], string]> = [
    ['p50Ms', 'p50'],
    ['p95Ms', 'p95'],
    ['p99Ms', 'p99'],
    ['p999Ms', 'p99.9'],
  ];
  const rows = runs.flatMap((r) =>
    pcts.filter(([k]) => typeof r.figures[k] === 'number' && (r.figures[k] as number) > 0).map(([k, label]) => ({ load: r.figures.target, percentile: label, ms: r.figures[k], run: r.id })),
  );
  const loads = new Set(runs.map((r) => r.figures.target)).size;
  return {
    ...base,
    caption: `Units: milliseconds (log scale) against target load in messages per second. Source: each run's latency histogram (send to acknowledgement, from the intended send time for the native generator; censored backlog included when a run saturated). Lines join the means over repetitions; points are single runs. ${repetitionsText(runs)} at ${plural(loads, 'load')}.`,
    spec: {
      width: W,
      height: H,
      title: { text: 'Latency percentiles vs load', subtitle: `ms (log) · run latency histograms · ${repetitionsText(runs)}` },
      data: { values: rows },
      encoding: {
        x: { field: 'load', type: 'quantitative', title: 'target load (msg/s)' },
        color: { field: 'percentile', type: 'nominal', title: 'percentile', sort: ['p50', 'p95', 'p99', 'p99.9'] },
      },
      layer: [
        { mark: { type: 'line', point: false }, encoding: { y: { aggregate: 'mean', field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } } } },
        { mark: { type: 'point', filled: true, opacity: 0.6, size: 30 }, encoding: { y: { field: 'ms', type: 'quantitative', scale: { type: 'log' } }, tooltip: [{ field: 'run' }, { field: 'percentile' }, { field: 'ms', format: '.2f' }] } },
      ],
    },
  };
}

/** Mean and 95 % CI rows for error-bar charts. */
function ciRows<K extends string>(groups: Map<K, number[]>, extra: (k: K) => Record<string, unknown>): Array<Record<string, unknown>> {
  return [...groups.entries()].map(([k, xs]) => {
    const s = summarize(xs);
    return { ...extra(k), mean: s.mean, low: s.ci95?.low ?? s.mean, high: s.ci95?.high ?? s.mean, n: s.n };
  });
}

export function energyPerMessageFigure(d: ReportData): FigureSpec {
  const runs = completed(d.runs).filter((r) => r.figures.messageSize !== null && (r.figures.msgPerJ ?? 0) > 0);
  const base = { id: 'energy', title: 'Energy per message vs message size', marks: ['mark-symbol', 'mark-rule'] };
  if (!runs.length) return { ...base, caption: '', unavailable: 'no completed run with a message size and an energy figure (msg/J)' };
  const groups = new Map<string, number[]>();
  for (const r of runs) {
    const add = (kind: string, v: number | null): void => {
      if (v === null || !(v > 0)) return;
      const k = `${r.figures.messageSize}|${kind}`;
      groups.set(k, [...(groups.get(k) ?? []), 1e6 / v]);
    };
    add('total', r.figures.msgPerJ);
    add('dynamic (above idle)', r.figures.msgPerDynamicJ);
  }
  const rows = ciRows(groups, (k) => ({ size: Number(k.split('|')[0]), kind: k.split('|')[1] }));
  const sizes = new Set(runs.map((r) => r.figures.messageSize)).size;
  const n = Math.max(...rows.map((r) => r.n as number));
  const errorbar = sizes > 0 && n > 1;
  return {
    ...base,
    marks: errorbar ? base.marks : ['mark-symbol'],
    caption: `Units: microjoules per acknowledged message (1e6 / msg per J), log scales. Source: the energy account of each run.json over its measurement window (per physical machine; "dynamic" subtracts the idle baseline over the same window). Points: mean over repetitions; bars: 95 % confidence interval of the mean (Student t). ${repetitionsText(runs)}, ${plural(sizes, 'message size')}.`,
    spec: {
      width: W,
      height: H,
      title: { text: 'Energy per message vs message size', subtitle: `µJ/msg · run energy accounts · ${repetitionsText(runs)} · mean ± 95 % CI` },
      data: { values: rows },
      encoding: {
        x: { field: 'size', type: 'quantitative', title: 'message size (bytes)', scale: { type: 'log', base: 2 }, axis: { format: '~s' } },
        color: { field: 'kind', type: 'nominal', title: 'energy' },
      },
      layer: [
        { mark: { type: 'line', strokeWidth: 1, opacity: 0.5 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
        { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { field: 'low', type: 'quantitative', scale: { type: 'log' } }, y2: { field: 'high' } } },
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            y: { field: 'mean', type: 'quantitative', title: 'energy per message (µJ)', scale: { type: 'log' } },
            tooltip: [{ field: 'size' }, { field: 'kind' }, { field: 'mean', format: '.3~g' }, { field: 'low', format: '.3~g' }, { field: 'high', format: '.3~g' }, { field: 'n' }],
          },
        },
      ],
    },
  };
}

export function powerFigure(d: ReportData): FigureSpec {
  const base = { id: 'power', title: 'Power over time per machine', marks: ['mark-line', 'mark-rect'] };
  if ('unavailable' in d.power) return { ...base, caption: '', unavailable: d.power.unavailable };
  const p = d.power;
  if (!p.points.length) return { ...base, caption: '', unavailable: `no power samples from ${p.source} over the runs' time span` };
  const windows = d.runs.filter((r) => r.window).map((r) => ({ start: r.window!.start * 1000, end: r.window!.end * 1000, run: r.id, config: r.config }));
  const machines = new Set(p.points.map((x) => x.machine)).size;
  return {
    ...base,
    caption: `Units: watts against wall-clock time. Source: ${p.source} (Prometheus range query, one line per physical machine). Shaded: the measurement window of each of the ${plural(windows.length, 'run')} (warm-up excluded).`,
    spec: {
      width: W,
      height: H,
      title: { text: 'Power over time per machine', subtitle: `W · ${p.source} · ${plural(machines, 'machine')} · ${plural(windows.length, 'run window')} shaded` },
      layer: [
        {
          data: { values: windows },
          mark: { type: 'rect', color: '#0072B2', opacity: 0.12 },
          encoding: { x: { field: 'start', type: 'temporal' }, x2: { field: 'end' }, tooltip: [{ field: 'run' }, { field: 'config' }] },
        },
        {
          data: { values: p.points.map((x) => ({ machine: x.machine, t: x.t * 1000, watts: x.watts })) },
          mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after' },
          encoding: {
            x: { field: 't', type: 'temporal', title: 'time' },
            y: { field: 'watts', type: 'quantitative', title: 'power (W)' },
            color: { field: 'machine', type: 'nominal', title: 'machine' },
          },
        },
      ],
    },
  };
}

export function capacityFigure(d: ReportData): FigureSpec {
  const base = { id: 'capacity', title: 'Capacity per configuration', marks: ['mark-symbol', 'mark-rule'] };
  const rows: Array<Record<string, unknown>> = [];
  const byConfig = new Map<string, ReportData['searches']>();
  for (const s of d.searches) if (s.capacity !== null) byConfig.set(s.config, [...(byConfig.get(s.config) ?? []), s]);
  for (const [config, ss] of byConfig) {
    if (ss.length >= 2) {
      const s = summarize(ss.map((x) => x.capacity));
      rows.push({ config, value: s.mean, low: s.ci95!.low, high: s.ci95!.high, what: `mean ± 95 % CI of ${ss.length} searches`, n: ss.length });
    } else {
      const s = ss[0]!;
      rows.push({ config, value: s.capacity, low: s.bracket.low, high: s.bracket.high ?? s.capacity, what: 'bracket of one search', n: 1 });
    }
  }
  for (const p of d.sweep?.points ?? []) {
    const c = p.stats.capacity;
    if (c?.mean === null || c?.mean === undefined) continue;
    rows.push({ config: p.key, value: c.mean, low: c.ci95?.low ?? c.mean, high: c.ci95?.high ?? c.mean, what: `mean ± 95 % CI of ${c.n} searches`, n: c.n });
  }
  if (!rows.length) return { ...base, caption: '', unavailable: 'no search result here: run `entrypoint search <exp>`, or a sweep with `ingest.load: max` (a search per point)' };
  const unit = d.searches[0]?.unit ?? 'msg/s';
  const searches = rows.reduce((a, r) => a + (r.n as number), 0);
  return {
    ...base,
    caption: `Units: ${unit}, the highest load that met the SLO (achieved ≥ the ratio of target, no backlog, and the latency bound when set). Source: search.json of each search (every trial is a run record). Bars: the 95 % confidence interval of the mean where a configuration was searched ≥ 2 times, else the search's final bracket [highest pass, lowest failure]. ${plural(searches, 'search', 'searches')} over ${plural(rows.length, 'configuration')}.`,
    spec: {
      width: W,
      height: Math.max(80, 36 * rows.length),
      title: { text: 'Capacity per configuration', subtitle: `${unit} · search records · ${plural(searches, 'search', 'searches')} · 95 % CI or bracket` },
      data: { values: rows },
      encoding: { y: { field: 'config', type: 'nominal', title: null, axis: { labelLimit: 260 } } },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2, color: '#555' }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
        {
          mark: { type: 'point', filled: true, size: 80, color: '#0072B2' },
          encoding: {
            x: { field: 'value', type: 'quantitative', title: `capacity (${unit})`, scale: { zero: false } },
            tooltip: [{ field: 'config' }, { field: 'value', format: ',.0f' }, { field: 'low', format: ',.0f' }, { field: 'high', format: ',.0f' }, { field: 'what' }],
          },
        },
      ],
    },
  };
}

export function sweepPointsFigure(d: ReportData): FigureSpec {
  const base = { id: 'sweep', title: 'Sweep points: throughput and messages per joule', marks: ['mark-symbol', 'mark-rule'] };
  const pts = d.sweep?.points.filter((p) => p.stats.throughput?.mean !== null && p.stats.throughput?.mean !== undefined) ?? [];
  if (!d.sweep) return { ...base, caption: '', unavailable: 'this report covers no sweep (use --sweep <id>, or run `entrypoint sweep <exp>`)' };
  if (!pts.length) return { ...base, caption: '', unavailable: 'no completed run in this sweep yet' };
  const rows = pts.flatMap((p) =>
    (
      [
        ['throughput (msg/s)', p.stats.throughput],
        ['messages per joule (msg/J)', p.stats.msgPerJ],
      ] as const
    )
      .filter(([, s]) => s?.mean !== null && s?.mean !== undefined)
      .map(([metric, s]) => ({ point: p.key, metric, mean: s!.mean, low: s!.ci95?.low ?? s!.mean, high: s!.ci95?.high ?? s!.mean, n: s!.n, cv: s!.cv, flagged: p.flagged.length ? 'CV above threshold' : 'ok' })),
  );
  const reps = d.sweep.repetitions;
  return {
    ...base,
    caption: `Units: messages per second (left) and acknowledged messages per joule of total energy (right). Source: sweep.json, statistics over the completed repetitions of each point (${reps} planned per point). Points: mean; bars: 95 % confidence interval of the mean (Student t, n − 1 degrees of freedom); orange: a figure of the point whose coefficient of variation exceeds ${Math.round(d.sweep.cvThreshold * 100)} %.`,
    spec: {
      title: { text: 'Sweep points: throughput and messages per joule', subtitle: `msg/s and msg/J · ${d.sweep.id} · ${plural(pts.length, 'point')} × ${reps} repetitions · mean ± 95 % CI` },
      data: { values: rows },
      facet: { column: { field: 'metric', type: 'nominal', title: null, header: { labelFontSize: 12 } } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 250,
        height: Math.max(80, 32 * pts.length),
        encoding: { y: { field: 'point', type: 'nominal', title: null, axis: { labelLimit: 300 } } },
        layer: [
          { mark: { type: 'rule', strokeWidth: 2, color: '#555' }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
          {
            mark: { type: 'point', filled: true, size: 70 },
            encoding: {
              x: { field: 'mean', type: 'quantitative', title: null, scale: { zero: false } },
              color: { field: 'flagged', type: 'nominal', title: 'spread', scale: { domain: ['ok', 'CV above threshold'], range: ['#0072B2', '#E69F00'] } },
              tooltip: [{ field: 'point' }, { field: 'mean', format: ',.4~g' }, { field: 'low', format: ',.4~g' }, { field: 'high', format: ',.4~g' }, { field: 'n' }, { field: 'cv', format: '.1%' }],
            },
          },
        ],
      },
    },
  };
}

export function comparisonFigure(d: ReportData): FigureSpec {
  const base = { id: 'compare', title: 'Side by side', marks: ['mark-rect', 'mark-rule'] };
  if (!d.compare) return { ...base, caption: '', unavailable: 'no comparison asked for (use --compare a,b with two sweep points, searches or sweeps)' };
  if ('unavailable' in d.compare) return { ...base, caption: '', unavailable: d.compare.unavailable };
  const sides: ComparisonSide[] = [d.compare.a, d.compare.b];
  const metrics: Array<[keyof Pick<ComparisonSide, 'throughput' | 'p99Ms' | 'msgPerJ'>, string]> = [
    ['throughput', 'throughput (msg/s)'],
    ['p99Ms', 'p99 latency (ms)'],
    ['msgPerJ', 'messages per joule (msg/J)'],
  ];
  const rows = sides.flatMap((s) =>
    metrics.filter(([k]) => s[k].mean !== null).map(([k, label]) => ({ side: s.label, metric: label, mean: s[k].mean, low: s[k].ci95?.low ?? s[k].mean, high: s[k].ci95?.high ?? s[k].mean, n: s[k].n })),
  );
  if (!rows.length) return { ...base, caption: '', unavailable: 'neither side has a completed run' };
  return {
    ...base,
    title: `Side by side: ${d.compare.a.label} vs ${d.compare.b.label}`,
    caption: `Units: messages per second, milliseconds, acknowledged messages per joule. Source: the completed run records of each side (${d.compare.a.label}: ${plural(d.compare.a.n, 'run')}; ${d.compare.b.label}: ${plural(d.compare.b.n, 'run')}). Bars: mean; whiskers: 95 % confidence interval of the mean (Student t).`,
    spec: {
      title: { text: `${d.compare.a.label} vs ${d.compare.b.label}`, subtitle: `run records · n = ${d.compare.a.n} and ${d.compare.b.n} · mean ± 95 % CI` },
      data: { values: rows },
      facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metrics.map((m) => m[1]) } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 160,
        height: 220,
        encoding: { x: { field: 'side', type: 'nominal', title: null, axis: { labelAngle: 0, labelLimit: 150 } } },
        layer: [
          { mark: { type: 'bar', width: { band: 0.6 } }, encoding: { y: { field: 'mean', type: 'quantitative', title: null }, color: { field: 'side', type: 'nominal', legend: null } } },
          { mark: { type: 'rule', strokeWidth: 1.5, color: '#222' }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
        ],
      },
    },
  };
}

export const FIGURES = [throughputFigure, latencyFigure, energyPerMessageFigure, powerFigure, capacityFigure, sweepPointsFigure, comparisonFigure];
