/** The `scrape targets` section of `status`, against a recorded /api/v1/targets answer (one target down). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { targetsSection } from '../../../src/metrics/targets-report.js';

const recorded = readFileSync(join(import.meta.dirname, '../../fixtures/metrics/prometheus-targets-one-down.json'), 'utf8');
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/targets')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(recorded);
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
    expect(s.lines[0]).toBe(`Prometheus ${url}: 1/2 targets up`);
    expect(s.lines[1]).toMatch(/^down {2}node +127\.0\.0\.1:29409 +\(Get "http:\/\/127\.0\.0\.1:29409\/metrics": dial tcp 127\.0\.0\.1:29409: connect: connection refused\)$/);
    expect(s.lines[2]).toMatch(/^up {4}prometheus +127\.0\.0\.1:29402$/);
    expect(s.data.targets.find((t) => t.job === 'node')!.labels.host).toBe('worker-1');
  });
  it('says when Prometheus cannot be reached, and stays out when there is none', async () => {
    const s = (await targetsSection({ prometheus_url: 'http://127.0.0.1:29997' }, 2000))!;
    expect(s.problem).toBe(true);
    expect(s.lines[0]).toMatch(/^Prometheus http:\/\/127\.0\.0\.1:29997: not reachable \(Prometheus \/api\/v1\/targets failed: .* refused the connection/);
    expect(await targetsSection({})).toBeUndefined();
  });
});
