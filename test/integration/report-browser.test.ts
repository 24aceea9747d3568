/**
 * The report as a person sees it: Debian's chromium (headless, driven by puppeteer-core) opens the
 * HTML file written from synthetic run records, every figure must be a drawn SVG with the marks it
 * should have, the page must log no console error and fetch nothing from the network, and a
 * full-page screenshot is saved to the test's output (test-output/report-browser/report.png).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReportData } from '../../src/app/report.js';
import { renderFigures, reportHtml } from '../../src/campaigns/report/html.js';
import { writeFileAtomic } from '../../src/core/files.js';
import { syntheticPower, writeSyntheticResults } from '../support/synthetic-results.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const OUT = join(process.env.GREENRACE_TEST_OUTPUT ?? join(process.cwd(), 'test-output'), 'report-browser');

let dir: string;
let browser: Browser;
const saved = { ...process.env };

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('chromium is not installed: run setup/install-system.sh --tests (Debian package chromium)');
  dir = mkdtempSync(join(tmpdir(), 'gr-report-browser-'));
  process.env.GREENRACE_RESULTS_DIR = join(dir, 'results');
  process.env.GREENRACE_STATE_DIR = join(dir, 'state');
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
afterAll(async () => {
  await browser?.close();
  process.env = saved;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report in headless Chromium', () => {
  it('every figure renders as a non-empty SVG with its marks, without console errors or network', async () => {
    writeSyntheticResults('synth');
    const d0 = await buildReportData({ experiment: 'synth', noPrometheus: true, compare: 'ingest.partitions=1,ingest.partitions=3' });
    const d = { ...d0, power: syntheticPower(d0.runs) };
    const figures = await renderFigures(d);
    const file = join(dir, 'results', 'synth', 'report.html');
    writeFileAtomic(file, reportHtml(d, figures));

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url().startsWith('file:')) void r.continue();
      else {
        problems.push(`network request: ${r.url()}`);
        void r.abort();
      }
    });
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

    const seen = await page.$$eval('section[data-figure]', (secs) =>
      secs.map((s) => {
        const svg = s.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const marks = (s.getAttribute('data-marks') ?? '').split(' ').filter(Boolean);
        return {
          id: s.getAttribute('data-figure'),
          unavailable: s.getAttribute('data-unavailable') === 'true',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: marks.map((m) => ({ m, drawn: svg ? svg.querySelectorAll(`g.${m} > *`).length : 0 })),
          caption: s.querySelector('figcaption')?.textContent ?? '',
        };
      }),
    );
    expect(seen.map((s) => s.id)).toEqual(['throughput', 'latency', 'energy', 'power', 'capacity', 'sweep', 'compare']);
    for (const s of seen) {
      expect(s.unavailable, s.id!).toBe(false);
      expect(s.width, `${s.id} width`).toBeGreaterThan(200);
      expect(s.height, `${s.id} height`).toBeGreaterThan(60);
      expect(s.marks.length, s.id!).toBeGreaterThan(0);
      for (const m of s.marks) expect(m.drawn, `${s.id}: ${m.m}`).toBeGreaterThan(0);
      expect(s.caption).toMatch(/Units: .*Source: /s);
    }
    // The table links each run to its run.json, and the link resolves to the record.
    const links = await page.$$eval('#runs a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links).toHaveLength(20);
    expect(existsSync(new URL(links[0]!).pathname)).toBe(true);
    // Sorting by a column works (the one inline script).
    await page.click('#runs th:nth-child(1)');

    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'report.png');
    await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    expect(problems).toEqual([]);
    await page.close();
  });
});
