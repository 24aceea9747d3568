import { GreenraceError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import type { RunRecord } from '../../app/query.js';
import { argError, type Session } from '../session.js';
import { describe } from '../overrides.js';
import { requireState } from '../cluster.js';
import { table, withView } from '../display.js';
import type { HelperDef } from './types.js';

/** The shell's own check (its message and hint); app/query checks the same for other callers. */
function requirePrometheus(s: Session): void {
  const st = requireState(s.exp);
  if (!st.endpoints.prometheus_url) {
    throw new GreenraceError('repl.no_prometheus', `experiment ${s.exp} has no Prometheus endpoint`, {
      hint: `add prometheus to services and deploy it: p('prometheus')`,
    });
  }
}

const labelsOf = (m: Record<string, string>): string => {
  const name = m.__name__ ?? '';
  const rest = Object.entries(m)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return `${name}{${rest}}`;
};

const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, ''));

/** A window: '5m' (the last 5 minutes), {start, end} (epoch seconds), or a run record (its measurement window). */
export function parseWindow(w: unknown, signature: string, now = Date.now() / 1000): { start: number; end: number } {
  if (typeof w === 'string' || typeof w === 'number') {
    const secs = parseDuration(w);
    if (secs === undefined || secs <= 0) throw argError(signature, `window must be a duration like "5m" or "30s" (got ${describe(w)})`);
    return { start: now - secs, end: now };
  }
  if (w && typeof w === 'object') {
    const rec = w as Partial<RunRecord> & { start?: unknown; end?: unknown };
    const win = rec.window ?? rec;
    const { start, end } = win as { start?: unknown; end?: unknown };
    if (typeof start === 'number' && typeof end === 'number' && end > start) return { start, end };
    if (rec.schema === 'greenrace.run/1') throw argError(signature, `run ${rec.id} has no measurement window (status ${rec.status})`);
  }
  throw argError(signature, `window must be a duration ("5m"), {start, end} in epoch seconds, or a run record such as last (got ${describe(w)})`);
}

export const query: HelperDef = {
  name: 'query',
  kind: 'function',
  signature: 'query(promql, range?)',
  summary: "PromQL on the experiment's Prometheus: instant, or over a range ('5m')",
  details: [
    'Without range: an instant query; returns [{metric, value}] (value = [epoch, number]).',
    "range: '5m' (the last 5 minutes), {start, end} or a run record (last): a range query,",
    'step = the scrape interval (at most 500 points); returns [{metric, values}].',
  ],
  examples: ["query('up')", "query('rate(node_cpu_seconds_total{mode=\"idle\"}[30s])', '2m')"],
  make: (s: Session) =>
    function query(promql: unknown, range?: unknown) {
      const sig = 'query(promql, range?)';
      if (typeof promql !== 'string' || promql.trim() === '') throw argError(sig, `promql must be a non-empty string (got ${describe(promql)})`);
      const win = range === undefined ? undefined : parseWindow(range, sig);
      return s.task(async () => {
        requirePrometheus(s);
        const app = await import('../../app/query.js');
        if (!win) {
          const items = await app.queryInstant(s.exp, promql);
          return withView(items, () =>
            items.length ? table(items.map((i) => [labelsOf(i.metric), num(i.value[1])]), ['series', 'value']) : '(no series)',
          );
        }
        const items = await app.queryRange(s.exp, promql, win, { scrapeInterval: s.experiment.monitoring.scrape_interval });
        return withView(items, () =>
          items.length
            ? table(
                items.map((i) => {
                  const vs = i.values.map((v) => v[1]);
                  return [labelsOf(i.metric), String(vs.length), num(Math.min(...vs)), num(Math.max(...vs)), num(vs[vs.length - 1] ?? NaN)];
                }),
                ['series', 'points', 'min', 'max', 'last'],
              )
            : '(no series)',
        );
      }, { abandonOnAbort: true });
    },
};

export const energy: HelperDef = {
  name: 'energy',
  kind: 'function',
  signature: 'energy(window?)',
  summary: "energy of the cluster's hosts over a window, with the source of each figure",
  details: [
    "window: '5m' (the last 5 minutes, the default), {start, end} in epoch seconds, or a run record",
    '(energy(last) = the measurement window of the last run).',
    'Sources are asked in the order of energy.sources (scaphandre, kwollect on Grid\'5000, rapl, model);',
    'each host keeps the best-covered figure; with a baseline (`entrypoint baseline`) the dynamic energy',
    'is shown too. Returns {window, seconds, hosts, totalJoules, dynamicJoules, meanWatts, sources, errors}.',
  ],
  examples: ['energy()', "energy('10m')", 'energy(last)'],
  make: (s: Session) =>
    function energy(window: unknown = '5m') {
      const sig = 'energy(window?)';
      const win = parseWindow(window, sig);
      return s.task(async () => {
        // The same sources as the runs use (Kwollect on Grid'5000), and the idle baseline when measured.
        const { energyOver } = await import('../../app/query.js');
        const acc = await energyOver(s.exp, win, { minCoverage: s.experiment.energy.min_coverage });
        return withView(acc, () => {
          const rows = acc.hosts.map((h) => [
            h.host,
            h.joules === null ? '—' : `${num(Math.round(h.joules * 10) / 10)} J`,
            h.meanWatts == null ? '' : `${num(Math.round(h.meanWatts * 100) / 100)} W`,
            h.source,
            `${Math.round(h.coverage.fraction * 100)}%`,
            h.note ?? '',
          ]);
          const total = acc.totalJoules === null ? 'total: unknown (a host has no figure)' : `total: ${num(Math.round(acc.totalJoules * 10) / 10)} J over ${num(Math.round(acc.seconds))} s (${num(Math.round((acc.meanWatts ?? 0) * 100) / 100)} W)`;
          const dyn = acc.dynamicJoules === null ? [] : [`dynamic (above the idle baseline): ${num(Math.round(acc.dynamicJoules * 10) / 10)} J`];
          const errs = Object.entries(acc.errors).map(([k, v]) => `source ${k} failed: ${v}`);
          return [table(rows, ['host', 'energy', 'power', 'source', 'coverage', 'note']), total, ...dyn, ...errs].join('\n');
        });
      }, { abandonOnAbort: true });
    },
};
