import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReportData, splitCompare, writeReport } from '../../../src/app/report.js';
import { renderFigures, reportHtml } from '../../../src/campaigns/report/html.js';
import type { ReportData } from '../../../src/campaigns/report/model.js';
import { syntheticPower, writeSyntheticResults, SYNTH_UJ_PER_MSG } from '../../support/synthetic-results.js';

let dir: string;
const saved = { ...process.env };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gr-report-'));
  process.env.GREENRACE_RESULTS_DIR = join(dir, 'results');
  process.env.GREENRACE_STATE_DIR = join(dir, 'state');
  writeSyntheticResults('synth');
});
afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

async function data(extra: Partial<Parameters<typeof buildReportData>[0]> = {}): Promise<ReportData> {
  const d = await buildReportData({ experiment: 'synth', noPrometheus: true, ...extra });
  return { ...d, power: syntheticPower(d.runs) };
}

describe('report data from run records', () => {
  it('reads every run, the sweep with its per-point statistics and both searches', async () => {
    const d = await data();
    expect(d.runs).toHaveLength(8 + 12);
    expect(d.sweep!.points).toHaveLength(4);
    const p = d.sweep!.points.find((x) => x.key === 'ingest.message_size=512, ingest.partitions=1')!;
    // 8000 msg/s × (1 − 0.02, 1 + 0.01, 1 + 0.015)
    expect(p.stats.throughput!.mean).toBeCloseTo((8000 * (0.98 + 1.01 + 1.015)) / 3, 6);
    expect(p.stats.throughput!.n).toBe(3);
    expect(p.flagged).toEqual([]);
    const noisy = d.sweep!.points.find((x) => x.key === 'ingest.message_size=4096, ingest.partitions=1')!;
    expect(noisy.flagged).toContain('throughput');
    expect(d.searches.map((s) => [s.config, s.capacity])).toEqual([
      ['ingest.partitions=1', 19_500],
      ['ingest.partitions=3', 29_250],
    ]);
    expect(d.runs[0]!.href).toBe(`${d.runs[0]!.id}/run.json`);
  });
  it('restricts to one sweep with --sweep, and names the known sweeps for an unknown one', async () => {
    expect((await data({ sweep: 'synth' })).runs).toHaveLength(12);
    await expect(buildReportData({ experiment: 'synth', sweep: 'nope', noPrometheus: true })).rejects.toThrow(/no sweep nope .*known: sweep-synth/);
    await expect(buildReportData({ experiment: 'absent', noPrometheus: true })).rejects.toThrow(/no results for experiment absent/);
  });
  it('--compare selects by path=value and refuses other shapes', async () => {
    const d = await data({ compare: 'ingest.partitions=1,ingest.partitions=3' });
    const c = d.compare as Exclude<ReportData['compare'], { unavailable: string } | undefined>;
    expect(c.a.n).toBe(6 + 4);
    expect(c.b.n).toBe(6 + 4);
    expect(() => splitCompare('a')).toThrow(/two sides/);
    await expect(buildReportData({ experiment: 'synth', compare: 'x,y', noPrometheus: true })).rejects.toThrow(/neither a sweep, a search, nor path=value/);
  });
});

describe('figures', () => {
  it('every figure is drawn, with its marks, and its caption gives units, source and repetitions', async () => {
    const d = await data({ compare: 'ingest.partitions=1,ingest.partitions=3' });
    const figs = await renderFigures(d);
    expect(figs.map((f) => f.id)).toEqual(['throughput', 'latency', 'energy', 'power', 'capacity', 'sweep', 'compare']);
    for (const f of figs) {
      expect(f.unavailable, f.id).toBeUndefined();
      expect(f.svg!.startsWith('<svg')).toBe(true);
      for (const m of f.marks) expect(f.svg, `${f.id} has ${m}`).toContain(`class="${m} role-mark`);
      expect(f.caption, f.id).toMatch(/Units: /);
      expect(f.caption, f.id).toMatch(/Source: /);
    }
    expect(figs.find((f) => f.id === 'throughput')!.caption).toMatch(/20 runs over 6 configurations/);
    expect(figs.find((f) => f.id === 'sweep')!.caption).toMatch(/3 planned per point/);
  });
  it('energy per message shows the known per-message cost (dynamic µJ per message by size)', async () => {
    const { energyPerMessageFigure } = await import('../../../src/campaigns/report/specs.js');
    const f = energyPerMessageFigure(await data({ sweep: 'synth' }));
    const rows = (f.spec!.data as { values: Array<{ size: number; kind: string; mean: number }> }).values;
    const dyn = (size: number) => rows.find((r) => r.size === size && r.kind.startsWith('dynamic'))!.mean;
    expect(dyn(512)).toBeCloseTo(SYNTH_UJ_PER_MSG(512), 3);
    expect(dyn(4096)).toBeCloseTo(SYNTH_UJ_PER_MSG(4096), 3);
  });
  it('a figure without data says why instead of drawing', async () => {
    const d = await data();
    const html = reportHtml({ ...d, searches: [], sweep: undefined, power: { unavailable: 'Prometheus at x does not answer' } }, await renderFigures({ ...d, searches: [], sweep: undefined, power: { unavailable: 'Prometheus at x does not answer' } }));
    expect(html).toContain('Not drawn: Prometheus at x does not answer.');
    expect(html).toContain('Not drawn: no search result here');
  });
  it('the HTML is self-contained: no external script, style, image or font', async () => {
    const r = await writeReport({ experiment: 'synth', noPrometheus: true });
    const html = readFileSync(r.path, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(http|<img[^>]+src="http/);
    expect(r.path).toBe(join(dir, 'results', 'synth', 'report.html'));
    expect(html).toContain(`href="${r.data.runs[0]!.id}/run.json"`);
  });
});
