import { describe, expect, it } from 'vitest';
import { experimentSchema } from '../../../../src/experiment/schema.js';
import type { Host } from '../../../../src/core/types.js';
import yaml from 'js-yaml';
import { deadlineS, loadgenPlan, planIngest, renderManifest, validateIngest } from '../../../../src/workloads/ingest/plan.js';
import { instanceSettings, parsePlan } from '../../../../src/loadgen/plan.js';

/** The manifest as a reader of the run folder sees it (greenrace itself never reads it back). */
const parseManifest = (text: string): unknown => yaml.load(text);

const host = (name: string, roles: Host['roles'], i: number): Host => ({ name, address: `10.9.0.${i}`, port: 22, user: 'root', roles });
const hosts = [host('b1', ['broker'], 1), host('b2', ['broker'], 2), host('b3', ['broker'], 3), host('w1', ['worker'], 4), host('w2', ['worker'], 5)];
const exp = (ingest: Record<string, unknown> = {}) =>
  experimentSchema.parse({ name: 'x', roles: { control: 1, broker: 3, worker: 2 }, services: ['kafka'], ingest: { load: 1000, instances: 3, ...ingest } });
const where = (p: string) => `x.yaml (${p})`;

describe('ingest plan', () => {
  it('splits the load over the instances, round-robin over the workers, remainder first', () => {
    const p = planIngest(exp({ load: 1000, instances: 3 }), hosts, { runId: '0123abcd-0000', bootstrap: ['10.9.0.1:9092'], now: 1000 });
    expect(p.generators.map((g) => [g.id, g.host, g.metricsPort])).toEqual([
      ['w1-0', 'w1', 9470],
      ['w2-0', 'w2', 9470],
      ['w1-1', 'w1', 9471],
    ]);
    expect(p.generators.reduce((a, g) => a + g.rate, 0)).toBeCloseTo(1000, 6);
    expect(Math.max(...p.generators.map((g) => g.rate)) - Math.min(...p.generators.map((g) => g.rate))).toBeLessThan(0.01);
  });

  it('hands the generators one plan (plan.json) their schema accepts, and renders the manifest from the same plan', () => {
    const p = planIngest(exp(), hosts, { runId: '0123abcd-0000', bootstrap: ['10.9.0.1:9092', '10.9.0.2:9092'], now: 1_000_000 });
    const m = parseManifest(renderManifest(p, { commands: { 'w1-0': 'node entrypoint.js loadgen --plan /d/plan.json --instance w1-0' } })) as any;
    expect(m.run_id).toBe('0123abcd-0000');
    expect(m.topic).toMatchObject({ name: 'greenrace-ingest', partitions: 6, replication_factor: 3, min_insync_replicas: 2 });
    expect(m.generators).toHaveLength(3);
    expect(m.generators[0].command).toMatch(/loadgen --plan .*plan.json --instance w1-0/);
    expect(m.deadline_epoch_s).toBe(deadlineS(p));
    expect(m.deadline_epoch_s).toBeGreaterThan(1000 + 30 + 5);
    // The hand-off: validated by the generators' own schema, one entry per generator with its rate;
    // no fixed start: each waits for the controller's POST /start with the run's token.
    const lg = parsePlan(JSON.parse(JSON.stringify(loadgenPlan(p, { token: 'a-per-run-token-0123456789', files: (g) => ({ dir: `/d/${g.host}`, summary: `/d/${g.host}/${g.id}.json` }) }))), 'plan.json');
    const s = instanceSettings(lg, 'w1-0');
    expect(s.bootstrap).toEqual(['10.9.0.1:9092', '10.9.0.2:9092']);
    expect(s.rate).toBeCloseTo(333.334, 3);
    expect(s.startAt).toBeUndefined();
    expect(s.control).toMatchObject({ address: '10.9.0.4', port: 9470, token: 'a-per-run-token-0123456789' });
    expect(s.summary).toBe('/d/w1/w1-0.json');
  });

  it('the manifest tells the playbook where Prometheus runs and what to scrape: every generator, labelled with the run', () => {
    const p = planIngest(exp(), hosts, { runId: '0123abcd-0000', bootstrap: ['10.9.0.1:9092'], now: 1_000_000, prometheusHost: 'c1' });
    const m = parseManifest(renderManifest(p)) as any;
    expect(m.scrape).toEqual({
      host: 'c1',
      job: 'greenrace_loadgen',
      targets: [
        { targets: ['10.9.0.4:9470'], labels: { run_id: '0123abcd-0000', host: 'w1', generator: 'w1-0' } },
        { targets: ['10.9.0.5:9470'], labels: { run_id: '0123abcd-0000', host: 'w2', generator: 'w2-0' } },
        { targets: ['10.9.0.4:9471'], labels: { run_id: '0123abcd-0000', host: 'w1', generator: 'w1-1' } },
      ],
    });
    // Without Prometheus there is nothing to publish (the playbook skips the file).
    expect((parseManifest(renderManifest(planIngest(exp(), hosts, { runId: '0123abcd-0000', bootstrap: ['10.9.0.1:9092'] }))) as any).scrape.host).toBeNull();
  });

  it('refuses more partitions than allowed, a broker that is not deployed, no workers', () => {
    const brokers = hosts.filter((h) => h.roles.includes('broker'));
    const workers = hosts.filter((h) => h.roles.includes('worker'));
    expect(() => validateIngest(exp({ partitions: 10000 }), workers, [brokers[0]!], ['kafka'], where)).toThrow(/partitions.*more than allowed.*4000/);
    expect(() => validateIngest(exp({ broker: 'redpanda' }), workers, brokers, ['kafka'], where)).toThrow(/redpanda but this experiment deployed kafka/);
    expect(() => validateIngest(exp(), [], brokers, ['kafka'], where)).toThrow(/no worker hosts/);
    expect(() => validateIngest(exp({ load: 2, instances: 3 }), workers, brokers, ['kafka'], where)).toThrow(/at least 1 msg\/s each/);
    expect(() => validateIngest(exp(), workers, brokers, ['kafka'], where)).not.toThrow();
  });

  it('the schema rejects a negative load, a zero message size and an unknown broker', () => {
    expect(() => exp({ load: -5 })).toThrow();
    expect(() => exp({ message_size: 0 })).toThrow();
    expect(() => exp({ broker: 'pulsar' })).toThrow();
  });
});

describe('ingest ramp (ingest.ramp)', () => {
  it('splits each step over the instances; the window is the steps; the generators get their share', () => {
    const p = planIngest(exp({ instances: 2, ramp: [{ load: 1000, duration: 2 }, { load: 3000, duration: '2s' }] }), hosts, { runId: '0123abcd-0000', bootstrap: ['10.9.0.1:9092'], now: 1000 });
    expect(p.durationS).toBe(4);
    expect(p.load).toBe(2000); // the mean target over the window
    expect(p.generators.map((g) => g.steps)).toEqual([
      [{ rate: 500, durationS: 2 }, { rate: 1500, durationS: 2 }],
      [{ rate: 500, durationS: 2 }, { rate: 1500, durationS: 2 }],
    ]);
    const lg = parsePlan(JSON.parse(JSON.stringify(loadgenPlan(p, { token: 'a-per-run-token-0123456789', files: (g) => ({ dir: `/d/${g.host}`, summary: `/d/${g.host}/${g.id}.json` }) }))), 'plan.json');
    expect(instanceSettings(lg, 'w1-0').steps).toEqual([{ rate: 500, durationS: 2 }, { rate: 1500, durationS: 2 }]);
  });
  it('a ramp of one step, or with the perf-test driver, is refused naming the key', () => {
    expect(() => exp({ ramp: [{ load: 1000, duration: 2 }] })).toThrow(/ramp/);
    expect(() => exp({ driver: 'perf-test', ramp: [{ load: 1000, duration: 2 }, { load: 2000, duration: 2 }] })).toThrow(/a ramp needs the native driver/);
  });
});
