/**
 * The `scrape targets` section of `status`, against a recorded /api/v1/targets answer (one target
 * down) and answers as Prometheus gives them right after it starts (no target yet, then targets
 * never scraped: health "unknown"); setup's bounded wait on the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { targetsSection, waitForTargetsUp } from '../../../src/metrics/targets-report.js';

const recorded = readFileSync(join(import.meta.dirname, '../../fixtures/metrics/prometheus-targets-one-down.json'), 'utf8');
/** What the fake Prometheus answers next (a queue; the last one stays). */
let answers: string[] = [];
const NEVER = '0001-01-01T00:00:00Z';
const target = (job: string, instance: string, health: 'up' | 'down' | 'unknown', lastError = '') => ({
  discoveredLabels: {},
  labels: { job, instance },
  scrapePool: job,
  scrapeUrl: `http://${instance}/metrics`,
  globalUrl: `http://${instance}/metrics`,
  lastError,
  lastScrape: health === 'unknown' ? NEVER : '2026-12-03T07:00:00Z',
  lastScrapeDuration: 0,
  health,
});
const targetsAnswer = (active: unknown[]): string => JSON.stringify({ status: 'success', data: { activeTargets: active, droppedTargets: [] } });
const EXPECTED = [
  { job: 'node', instance: '10.0.0.2:9100', host: 'worker-1' },
  { job: 'prometheus', instance: '10.0.0.1:9090', host: 'control-1' },
];
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/targets')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answers.length > 1 ? answers.shift() : (answers[0] ?? recorded));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('scrape targets in status', () => {
  it('lists each target, up or down with its last error, and the Prometheus URL', async () => {
    const s = (await targetsSection({ prometheus_url: url }))!;
    expect(s.title).toBe('scrape targets');
    expect(s.problem).toBe(true);
    expect(s.lines[0]).toBe(`Prometheus ${url}: 1/2 targets up, 1 down`);
    expect(s.lines[1]).toMatch(/^down {12}node +127\.0\.0\.1:29409 +\(Get "http:\/\/127\.0\.0\.1:29409\/metrics": dial tcp 127\.0\.0\.1:29409: connect: connection refused\)$/);
    expect(s.lines[2]).toMatch(/^up {14}prometheus +127\.0\.0\.1:29402$/);
    expect(s.data.targets.find((t) => t.job === 'node')!.labels.host).toBe('worker-1');
  });
  it('says when Prometheus cannot be reached, and stays out when there is none', async () => {
    const s = (await targetsSection({ prometheus_url: 'http://127.0.0.1:29997' }, { timeoutMs: 2000 }))!;
    expect(s.problem).toBe(true);
    expect(s.lines[0]).toMatch(/^Prometheus http:\/\/127\.0\.0\.1:29997: not reachable \(Prometheus \/api\/v1\/targets failed: .* refused the connection/);
    expect(await targetsSection({})).toBeUndefined();
  });

  it('right after Prometheus starts: targets not scraped yet (listed or not) are not "down" and not a problem', async () => {
    answers = [targetsAnswer([])];
    const empty = (await targetsSection({ prometheus_url: url }, { expected: EXPECTED }))!;
    expect(empty.problem).toBe(false);
    expect(empty.lines[0]).toBe(`Prometheus ${url}: 0/2 targets up, 2 not scraped yet`);
    expect(empty.lines[1]).toBe('not scraped yet node         10.0.0.2:9100  (not listed by Prometheus yet)');
    answers = [targetsAnswer([target('node', '10.0.0.2:9100', 'unknown'), target('prometheus', '10.0.0.1:9090', 'up')])];
    const s = (await targetsSection({ prometheus_url: url }, { expected: EXPECTED }))!;
    expect(s.problem).toBe(false);
    expect(s.lines.slice(0, 3)).toEqual([`Prometheus ${url}: 1/2 targets up, 1 not scraped yet`, 'not scraped yet node         10.0.0.2:9100', 'up              prometheus   10.0.0.1:9090']);
    answers = [targetsAnswer([target('node', '10.0.0.2:9100', 'down', 'connection refused'), target('prometheus', '10.0.0.1:9090', 'up')])];
    const d = (await targetsSection({ prometheus_url: url }, { expected: EXPECTED }))!;
    expect(d.problem).toBe(true);
    expect(d.lines[1]).toBe('down            node         10.0.0.2:9100  (connection refused)');
  });
});

describe("setup's wait for the scrape targets", () => {
  it('waits through "no targets yet" and "not scraped yet" until every expected target is up, with progress', async () => {
    answers = [
      targetsAnswer([]),
      targetsAnswer([target('node', '10.0.0.2:9100', 'unknown'), target('prometheus', '10.0.0.1:9090', 'unknown')]),
      targetsAnswer([target('node', '10.0.0.2:9100', 'unknown'), target('prometheus', '10.0.0.1:9090', 'up')]),
      targetsAnswer([target('node', '10.0.0.2:9100', 'up'), target('prometheus', '10.0.0.1:9090', 'up')]),
    ];
    const lines: string[] = [];
    const r = await waitForTargetsUp(url, EXPECTED, { timeoutMs: 60_000, intervalMs: 10, progress: (l) => lines.push(l) });
    expect(r.allUp).toBe(true);
    expect(lines).toEqual([
      `waiting for the scrape targets: Prometheus ${url}: 0/2 targets up, 2 not scraped yet`,
      `waiting for the scrape targets: Prometheus ${url}: 1/2 targets up, 1 not scraped yet`,
      `waiting for the scrape targets: Prometheus ${url}: 2/2 targets up`,
    ]);
  });

  it('stops at its bound and names what stayed down or unscraped', async () => {
    answers = [targetsAnswer([target('node', '10.0.0.2:9100', 'down', 'connection refused'), target('prometheus', '10.0.0.1:9090', 'up')])];
    const r = await waitForTargetsUp(url, EXPECTED, { timeoutMs: 50, intervalMs: 10 });
    expect(r.allUp).toBe(false);
    expect(r.rows.filter((x) => x.state !== 'up')).toEqual([{ job: 'node', instance: '10.0.0.2:9100', state: 'down', lastError: 'connection refused' }]);
  });
});
