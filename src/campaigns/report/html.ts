/**
 * The report page: one self-contained HTML file (styles and the one small script inlined, figures
 * as inline SVG, nothing fetched from the network), readable without the script.
 */
import type { RenderedFigure, ReportData, ReportRun } from './model.js';
import { FIGURES } from './specs.js';
import { renderSvg } from './render.js';

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number | null | undefined, digits = 3): string => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(digits)));
};

/** Render every figure (those without data carry the reason instead of an SVG). */
export async function renderFigures(d: ReportData): Promise<RenderedFigure[]> {
  const out: RenderedFigure[] = [];
  for (const make of FIGURES) {
    const f = make(d);
    if (!f.spec) out.push({ id: f.id, title: f.title, caption: f.caption, unavailable: f.unavailable ?? 'no data', marks: [] });
    else out.push({ id: f.id, title: f.title, caption: f.caption, svg: await renderSvg(f.spec), marks: f.marks });
  }
  return out;
}

const STYLE = `
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#e3e3e3; --accent:#0072B2; --bad:#D55E00; --ok:#009E73; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fafafa; }
header { padding: 20px 32px 12px; background: white; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header p { margin: 0; color: var(--muted); }
nav { margin-top: 8px; font-size: 13px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
main { padding: 16px 32px 40px; max-width: 1200px; }
section { background: white; border: 1px solid var(--line); border-radius: 6px; padding: 16px 20px; margin: 16px 0; }
section h2 { margin: 0 0 8px; font-size: 16px; font-weight: 600; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; max-width: 860px; }
.unavailable { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; position: sticky; top: 0; cursor: pointer; user-select: none; }
td.l, th.l { text-align: left; }
td.completed { color: var(--ok); } td.failed, td.aborted { color: var(--bad); }
.pass { color: var(--ok); } .fail { color: var(--bad); }
.scroll { overflow-x: auto; max-height: 560px; }
code { font-size: 12px; }
`;

/** Sorts a table by the clicked column (numbers numerically); inline, no network. */
const SCRIPT = `
document.querySelectorAll('table.sortable th').forEach(function (th, i) {
  th.addEventListener('click', function () {
    var tb = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(tb.rows);
    var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    var key = function (r) { var t = r.cells[i].textContent.replace(/,/g, ''); var n = parseFloat(t); return isNaN(n) ? t : n; };
    rows.sort(function (a, b) { var x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * dir; });
    rows.forEach(function (r) { tb.appendChild(r); });
  });
});
`;

function runsTable(runs: ReportRun[]): string {
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))];
  const head = [
    '<th class="l">run</th><th class="l">status</th><th class="l">started</th>',
    ...paramKeys.map((k) => `<th>${esc(k)}</th>`),
    '<th>achieved (msg/s)</th><th>p50 (ms)</th><th>p99 (ms)</th><th>energy (J)</th><th>dynamic (J)</th><th>msg/J</th><th class="l">campaign</th>',
  ].join('');
  const body = runs
    .map((r) => {
      const f = r.figures;
      return `<tr><td class="l"><a href="${esc(r.href)}"><code>${esc(r.id)}</code></a></td><td class="l ${esc(r.status)}">${esc(r.status)}</td><td class="l">${esc(r.startedAt.replace('T', ' ').slice(0, 19))}</td>${paramKeys
        .map((k) => `<td>${esc(r.params[k] ?? '')}</td>`)
        .join('')}<td>${fmt(f.throughput)}</td><td>${fmt(f.p50Ms)}</td><td>${fmt(f.p99Ms)}</td><td>${fmt(f.energyJ)}</td><td>${fmt(f.dynamicJ)}</td><td>${fmt(f.msgPerJ)}</td><td class="l">${esc(r.campaign ?? '')}</td></tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function searchesSection(d: ReportData): string {
  if (!d.searches.length) return '';
  const blocks = d.searches.map((s) => {
    const rows = s.trials
      .map(
        (t) =>
          `<tr><td>${t.n}</td><td class="l">${t.kind}</td><td>${fmt(t.target)}</td><td>${fmt(t.achieved)}</td><td>${fmt(t.p99Ms)}</td><td class="l ${t.pass ? 'pass' : 'fail'}">${t.pass ? 'pass' : 'fail'}</td><td class="l">${esc(t.reasons.join('; '))}</td><td class="l">${t.runId ? `<a href="${esc(t.runId)}/run.json"><code>${esc(t.runId)}</code></a>` : ''}</td></tr>`,
      )
      .join('\n');
    const b = s.bracket;
    return `<h3 style="font-size:14px;margin:12px 0 4px">${esc(s.id)} <span style="font-weight:400;color:#5f6368">${esc(s.config)}</span></h3>
<p>capacity <b>${fmt(s.capacity)} ${esc(s.unit)}</b>, bracket [${fmt(b.low)}, ${fmt(b.high)}] ${s.withinPrecision ? '(within the precision)' : '<span class="fail">(not within the precision)</span>'}, ${s.trials.length} trials</p>
<div class="scroll"><table><thead><tr><th>trial</th><th class="l">kind</th><th>target</th><th>achieved</th><th>p99 (ms)</th><th class="l">SLO</th><th class="l">why</th><th class="l">run</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  });
  return `<section id="searches"><h2>Searches</h2>${blocks.join('\n')}</section>`;
}

export function reportHtml(d: ReportData, figures: RenderedFigure[]): string {
  const nav = [...figures.map((f) => `<a href="#fig-${f.id}">${esc(f.title)}</a>`), d.searches.length ? '<a href="#searches">searches</a>' : '', '<a href="#runs">runs</a>'].join('');
  const sections = figures
    .map((f) =>
      f.svg
        ? `<section id="fig-${f.id}" data-figure="${f.id}" data-marks="${esc(f.marks.join(' '))}"><h2>${esc(f.title)}</h2><figure>${f.svg}<figcaption>${esc(f.caption)}</figcaption></figure></section>`
        : `<section id="fig-${f.id}" data-figure="${f.id}" data-unavailable="true"><h2>${esc(f.title)}</h2><p class="unavailable">Not drawn: ${esc(f.unavailable)}.</p></section>`,
    )
    .join('\n');
  const drawn = figures.filter((f) => f.svg).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>greenrace report: ${esc(d.experiment)}</title>
<style>${STYLE}</style></head>
<body>
<header><h1>greenrace report: ${esc(d.experiment)}</h1>
<p>${esc(d.scope)} · ${d.runs.length} runs · ${drawn} of ${figures.length} figures drawn · generated ${esc(d.generatedAt)}</p>
<nav>${nav}</nav></header>
<main>
${sections}
${searchesSection(d)}
<section id="runs"><h2>Runs</h2><p style="color:#5f6368;margin-top:0">Every run with its parameters; the id links to its run.json (paths relative to this file). Click a column to sort.</p>${runsTable(d.runs)}</section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
