import { describe, expect, it } from 'vitest';
import { serveControl, StartTrigger } from '../../../src/loadgen/control.js';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';
import { createLoadgenMetrics } from '../../../src/loadgen/metrics.js';

const TOKEN = 'run-token-0123456789';

describe('loadgen metrics and control server', () => {
  it('serves counters and a latency histogram read from the generator histogram', async () => {
    const h = new LatencyHistogram();
    h.record(300, 5); // 0.3 ms
    h.record(4000, 3); // 4 ms
    h.record(2_000_000, 2); // 2 s
    const m = createLoadgenMetrics({ instance_id: 'w1-0', topic: 't' }, () => h);
    m.acked.inc({ phase: 'measure' }, 42);
    const { server, port } = await serveControl({ registry: m.registry, address: '127.0.0.1', port: 0 });
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/greenrace_loadgen_messages_acked_total\{phase="measure",instance_id="w1-0",topic="t"\} 42/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="0.0005",instance_id="w1-0",topic="t"\} 5/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="0.005",instance_id="w1-0",topic="t"\} 8/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="1",instance_id="w1-0",topic="t"\} 8/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="\+Inf",instance_id="w1-0",topic="t"\} 10/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_count\{instance_id="w1-0",topic="t"\} 10/);
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
      // No trigger: no start endpoint.
      expect((await fetch(`http://127.0.0.1:${port}/start?at=1`, { method: 'POST' })).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('POST /start needs the run token: missing or wrong → 403 and nothing starts; the right one starts once', async () => {
    const m = createLoadgenMetrics({ instance_id: 'w', topic: 't' }, () => new LatencyHistogram());
    const trigger = new StartTrigger();
    const { server, port } = await serveControl({ registry: m.registry, address: '127.0.0.1', port: 0, trigger, token: TOKEN });
    const start = (at: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}/start?at=${at}`, { method: 'POST', headers });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    try {
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(503);
      expect((await start('5000', auth)).status).toBe(409); // not ready yet
      trigger.ready = true;
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
      expect((await start('5000')).status).toBe(403);
      expect((await start('5000', { Authorization: `Bearer ${TOKEN}x` })).status).toBe(403);
      expect((await start('5000', { Authorization: TOKEN })).status).toBe(403);
      expect((await start('5000', { 'X-Token': TOKEN })).status).toBe(403);
      expect(trigger.started).toBe(false);
      expect((await start('soon', auth)).status).toBe(400);
      expect((await fetch(`http://127.0.0.1:${port}/start?at=5000`, { headers: auth })).status).toBe(405);
      expect((await start('5000', auth)).status).toBe(200);
      expect(await trigger.at).toBe(5000);
      expect((await start('6000', auth)).status).toBe(409);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('listens only on the address it is given, and says so when it cannot', async () => {
    const m = createLoadgenMetrics({ instance_id: 'w', topic: 't' }, () => new LatencyHistogram());
    const { server, port } = await serveControl({ registry: m.registry, address: '127.0.0.1', port: 0 });
    try {
      const addr = server.address();
      expect(typeof addr === 'object' && addr?.address).toBe('127.0.0.1');
      // Another address of this host does not answer.
      await expect(fetch(`http://127.0.0.2:${port}/metrics`)).rejects.toThrow();
      await expect(serveControl({ registry: m.registry, address: '127.0.0.1', port })).rejects.toMatchObject({ code: 'loadgen.control_listen', message: expect.stringMatching(/EADDRINUSE/) });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
