import { describe, expect, it } from 'vitest';
import { scrapedPast, waitForScrapesPast } from '../../../src/app/energy.js';

const up = (job: string, t: number) => ({ metric: { job, instance: `${job}:1` }, value: [t + 0.5, t] as [number, number] });

describe('scrapedPast', () => {
  it('is true only once every target has a sample at or after the end', () => {
    expect(scrapedPast([up('node', 101), up('scaphandre', 100)], 100)).toBe(true);
    expect(scrapedPast([up('node', 101), up('scaphandre', 99.9)], 100)).toBe(false);
  });
  it('leaves the excluded jobs out (withdrawn generators)', () => {
    expect(scrapedPast([up('node', 101), up('greenrace_loadgen', 90)], 100, ['greenrace_loadgen'])).toBe(true);
    expect(scrapedPast([up('node', 101), up('greenrace_loadgen', 90)], 100)).toBe(false);
  });
  it('is false when Prometheus lists no target', () => {
    expect(scrapedPast([], 100)).toBe(false);
    expect(scrapedPast([up('greenrace_loadgen', 200)], 100, ['greenrace_loadgen'])).toBe(false);
  });
});

describe('waitForScrapesPast', () => {
  it('asks again until the scrapes pass the end', async () => {
    const end = Date.now() / 1000;
    const answers = [[up('node', end - 1)], [up('node', end - 0.5)], [up('node', end + 0.2)]];
    let asked = 0;
    const prom = { queryVector: async (expr: string) => (expect(expr).toBe('timestamp(up)'), answers[Math.min(asked++, answers.length - 1)]!) };
    expect(await waitForScrapesPast(prom, end, 15, { pollMs: 1 })).toBe('scraped');
    expect(asked).toBe(3);
  });
  it('gives up at the old fixed bound (two scrape intervals past the end) when a target never passes it', async () => {
    const end = Date.now() / 1000 - 10; // the bound (end + 2 × 3 s) has passed
    let asked = 0;
    const prom = { queryVector: async () => (asked++, [up('node', end - 1)]) };
    expect(await waitForScrapesPast(prom, end, 1)).toBe('bound');
    expect(asked).toBe(1);
  });
  it('treats a failing query as not yet scraped', async () => {
    const end = Date.now() / 1000 - 10;
    const prom = { queryVector: async () => Promise.reject(new Error('down')) };
    expect(await waitForScrapesPast(prom, end, 1)).toBe('bound');
  });
});
