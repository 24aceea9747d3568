/**
 * The load generator against a real Kafka broker (one KRaft node in its own network namespace,
 * test/support/kafka-broker.ts), run as the ingest run starts it: `entrypoint loadgen --plan
 * plan.json --instance <id> --summary <file>`, its control port on the host's address on the link,
 * the start sent with the run's token. Then a rate above what the link to the broker carries (a
 * token bucket on it): the summary flags saturation and its p99 holds the backlog, checked against
 * a bound computed from the broker's own offsets. The perf-test driver on the same link says its
 * latency is closed-loop and counts what it never sent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadgenPlanInput } from '../../src/loadgen/plan.js';
import type { LoadgenSummary } from '../../src/loadgen/summary.js';
import { brokerUp, HOST_ADDR, type Broker } from '../support/kafka-broker.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'dist/entrypoint.js');
const TOKEN = `it-${Date.now()}-0123456789abcdef`;
const WORK = mkdtempSync(join(tmpdir(), 'gr-loadgen-it-'));
let broker: Broker;

function plan(topic: string, shared: Partial<LoadgenPlanInput['shared']>, gens: LoadgenPlanInput['generators']): string {
  const file = join(WORK, `plan-${topic}-${Date.now()}.json`);
  const p: LoadgenPlanInput = { schema: 'greenrace.loadgen-plan/1', runId: 'it', shared: { bootstrap: [broker.bootstrap], topic, control: { token: TOKEN }, ...shared }, generators: gens };
  writeFileSync(file, JSON.stringify(p));
  return file;
}

const loadgen = (args: string[]) => execa(process.execPath, [ENTRY, 'loadgen', ...args], { reject: false, timeout: 240_000 });
const summaryOf = (file: string): LoadgenSummary => JSON.parse(readFileSync(file, 'utf8')) as LoadgenSummary;

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`http://${HOST_ADDR}:${port}/ready`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`generator on port ${port} never became ready`);
}

const start = (port: number, at: number, token?: string) =>
  fetch(`http://${HOST_ADDR}:${port}/start?at=${at}`, { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {} }).then((r) => r.status);

beforeAll(async () => {
  broker = await brokerUp();
  await broker.createTopic('ok', 3);
  await broker.createTopic('sat', 3);
  await broker.createTopic('satpt', 3);
}, 300_000);

afterAll(async () => {
  await broker?.down();
  rmSync(WORK, { recursive: true, force: true });
}, 60_000);

describe('entrypoint loadgen against a real Kafka broker', () => {
  it('--plan: two instances wait on the host address, refuse a start without the token, start together and deliver every message', async () => {
    const file = plan('ok', { messageSize: 512, warmupS: 1, durationS: 4, timeouts: { startMs: 120_000 } }, [
      { id: 'g1', rate: 500, control: { address: HOST_ADDR, port: 9571 } },
      { id: 'g2', rate: 500, control: { address: HOST_ADDR, port: 9572 } },
    ]);
    const runs = ['g1', 'g2'].map((id) => loadgen(['--plan', file, '--instance', id, '--summary', join(WORK, `${id}.json`), '--quiet']));
    await waitReady(9571);
    await waitReady(9572);
    // Not on the wildcard: the loopback address does not answer.
    expect(await fetch('http://127.0.0.1:9571/ready').then(() => 'answered', () => 'refused')).toBe('refused');
    const at = Date.now() + 1000;
    expect(await start(9571, at)).toBe(403);
    expect(await start(9571, at, 'wrong-token-0123456789')).toBe(403);
    expect(await start(9571, at, TOKEN)).toBe(200);
    expect(await start(9572, at, TOKEN)).toBe(200);
    const res = await Promise.all(runs);
    for (const r of res) expect(r.exitCode, r.stderr).toBe(0);
    const [s1, s2] = [summaryOf(join(WORK, 'g1.json')), summaryOf(join(WORK, 'g2.json'))];
    for (const s of [s1, s2]) {
      expect(s).toMatchObject({ status: 'completed', saturated: false, config: { startAt: at, messageSize: 512 }, latency: { loop: 'open', from: 'intended' } });
      expect(s.counts).toMatchObject({ unsent: 0, unacked: 0, failed: 0 });
      expect(s.latencyMs.samples).toBe(2000); // 500 msg/s × 4 s measured: each once
      expect(s.latencyMs.censored).toBe(0);
    }
    expect(res[0]!.stderr).toMatch(/\[g1\] completed: .* \(open-loop, from the intended send time\)$/m);
    // Second method: the broker holds every message the two generators sent (offsets of the topic).
    const sent = s1.warmup.sent + s1.counts.sent + s2.warmup.sent + s2.counts.sent;
    expect(await broker.endOffsets('ok')).toBe(sent);
    expect(sent).toBe(2 * 500 * 5);
  }, 300_000);

  it('above what the link carries: the summary flags saturation and its p99 holds the backlog (bound from the broker offsets)', async () => {
    await broker.limitBandwidth('4mbit'); // ≈ 450 msg/s of 1 KiB
    try {
      const rate = 3000;
      const file = plan('sat', { messageSize: 1024, warmupS: 1, durationS: 8, timeouts: { startMs: 120_000 } }, [{ id: 'sat', rate, control: { address: HOST_ADDR, port: 9573 } }]);
      const run = loadgen(['--plan', file, '--instance', 'sat', '--summary', join(WORK, 'sat.json'), '--quiet']);
      await waitReady(9573);
      const at = Date.now() + 1000;
      expect(await start(9573, at, TOKEN)).toBe(200);
      const r = await run;
      expect(r.exitCode, r.stderr).toBe(0);
      const s = summaryOf(join(WORK, 'sat.json'));
      expect(s.status).toBe('completed');
      expect(s.saturated).toBe(true);
      const M = rate * 8;
      expect(s.target.messages).toBe(M);
      expect(s.counts.unsent).toBeGreaterThan(M / 2);
      // Every measured message is in the figures once: acknowledged, or censored (unsent/unacked/failed).
      expect(s.latencyMs.samples).toBe(M);
      expect(s.latencyMs.censored).toBeGreaterThanOrEqual(s.counts.unsent + s.counts.unacked);
      // Independent bound: the broker holds D messages, so among indices 0..D+k-1 at least k were never
      // delivered, each waiting at least (window end − its intended time). The k-th largest latency, k =
      // the samples above p99, is then at least window end − intended(D + k − 1).
      const D = await broker.endOffsets('sat');
      expect(D).toBeLessThanOrEqual(s.warmup.sent + s.counts.sent);
      const k = M - Math.ceil(0.99 * M) + 1;
      const bound = s.window.end - (s.config.startAt + ((D + k - 1) * 1000) / rate);
      expect(bound).toBeGreaterThan(1000);
      expect(s.latencyMs.p99 * 1.001).toBeGreaterThanOrEqual(bound);
      expect(r.stderr).toMatch(/p99 ≥ [\d.]+ .*SATURATED: \d+ unsent, \d+ unacked, counted at their latency when the run ended \(lower bounds\)/);
      // Achieved rate against the link's capacity (4 Mbit/s ≈ 488 KiB/s of payload at most).
      expect(s.achieved.mbPerSec).toBeLessThan(0.5);
      expect(s.achieved.msgPerSec).toBeGreaterThan(200);
      console.log(`saturated run: acked ${s.counts.acked} in window (${s.achieved.msgPerSec.toFixed(0)} msg/s), unsent ${s.counts.unsent}, unacked ${s.counts.unacked}, ` +
        `p50 ${s.latencyMs.p50} p99 ${s.latencyMs.p99} max ${s.latencyMs.max} ms; broker offsets ${D}; bound on p99 ${bound.toFixed(0)} ms`);
    } finally {
      await broker.limitBandwidth();
    }
  }, 300_000);

  it('perf-test on the same link: closed-loop latency said so, and what it never sent counted as unsent', async () => {
    await broker.limitBandwidth('4mbit');
    try {
      const file = plan('satpt', { messageSize: 1024, warmupS: 2, durationS: 5, timeouts: { startMs: 120_000, requestMs: 5000 }, driver: { name: 'perf-test', kafkaLibs: broker.libs } }, [
        { id: 'pt', rate: 3000, control: { address: HOST_ADDR, port: 9574 } },
      ]);
      const run = loadgen(['--plan', file, '--instance', 'pt', '--summary', join(WORK, 'pt.json'), '--quiet']);
      await waitReady(9574);
      expect(await start(9574, Date.now() + 500, TOKEN)).toBe(200);
      const r = await run;
      expect(r.exitCode, r.stderr).toBe(0);
      const s = summaryOf(join(WORK, 'pt.json'));
      console.log(`perf-test on the limited link: ${JSON.stringify({ counts: s.counts, warmup: s.warmup, target: s.target, achieved: s.achieved, notes: s.notes })}`);
      expect(s).toMatchObject({ driver: 'perf-test', status: 'completed', latency: { loop: 'closed', from: 'send', source: 'perf-test' } });
      expect(s.target.messages).toBe(15_000);
      // Every record is acknowledged, failed (counted from the tool's exceptions) or unsent; records
      // are sent in order, so a tool starved before it finished its 6,000 warm-up records (a JVM
      // starting late on a busy host) completed no measured record and left all 15,000 unsent.
      const warmDone = s.warmup.acked + s.warmup.failed;
      if (warmDone < 6000) expect([s.counts.acked, s.counts.failed, s.counts.unsent]).toEqual([0, 0, 15_000]);
      else expect(warmDone + s.counts.acked + s.counts.failed + s.counts.unsent).toBe(21_000);
      expect(s.counts.acked + s.counts.failed + s.counts.unsent).toBeGreaterThanOrEqual(s.target.messages);
      expect(s.achieved.msgPerSec).toBeLessThan(0.95 * 3000);
      expect(s.saturated).toBe(true);
      expect(r.stderr).toMatch(/closed-loop, from the actual send \(coordinated omission: understates latency under load\); SATURATED: the sender fell behind its target rate \(\d+ unsent\); the wait is not in these figures/);
      // Second method: the broker holds what the tool counted as acknowledged (plus what it acked
      // after its last report line).
      expect(await broker.endOffsets('satpt')).toBeGreaterThanOrEqual(s.counts.acked + s.warmup.acked);
    } finally {
      await broker.limitBandwidth();
    }
  }, 300_000);
});
