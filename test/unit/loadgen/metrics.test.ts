import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/loadgen/histogram.js';
import { createLoadgenMetrics, serveMetrics } from '../../../src/loadgen/metrics.js';

describe('loadgen metrics', () => {
  it('serves counters and a latency histogram read from the generator histogram', async () => {
    const h = new LatencyHistogram();
    h.record(300, 5); // 0.3 ms
    h.record(4000, 3); // 4 ms
    h.record(2_000_000, 2); // 2 s
    const m = createLoadgenMetrics({ instance_id: 'w1-0', topic: 't' }, () => h);
    m.acked.inc({ phase: 'measure' }, 42);
    const { server, port } = await serveMetrics(m.registry, 0, '127.0.0.1');
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/greenrace_loadgen_messages_acked_total\{phase="measure",instance_id="w1-0",topic="t"\} 42/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="0.0005",instance_id="w1-0",topic="t"\} 5/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="0.005",instance_id="w1-0",topic="t"\} 8/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="1",instance_id="w1-0",topic="t"\} 8/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_bucket\{le="\+Inf",instance_id="w1-0",topic="t"\} 10/);
      expect(text).toMatch(/greenrace_loadgen_latency_seconds_count\{instance_id="w1-0",topic="t"\} 10/);
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
