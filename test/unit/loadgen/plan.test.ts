import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../../src/core/errors.js';
import { FLAG_FORM_RATE, LOADGEN_FLAGS, flagDefault } from '../../../src/loadgen/flag-table.js';
import { planFromFlags } from '../../../src/loadgen/flags.js';
import { LOADGEN_BOUNDS, LOADGEN_PLAN_SCHEMA, instanceSettings, parsePlan, readPlan, type LoadgenPlanInput } from '../../../src/loadgen/plan.js';

const TOKEN = 'tok-0123456789abcdef';
const plan = (over: Partial<LoadgenPlanInput['shared']> = {}, gens?: LoadgenPlanInput['generators']): LoadgenPlanInput => ({
  schema: LOADGEN_PLAN_SCHEMA,
  runId: 'r1',
  shared: { bootstrap: ['10.0.0.1:9092', '10.0.0.2:9092'], topic: 'bench', messageSize: 512, warmupS: 5, durationS: '30s', acks: 'all', control: { token: TOKEN }, ...over },
  generators: gens ?? [
    { id: 'worker-1-0', host: 'worker-1', rate: 2500, control: { address: '10.0.0.11', port: 9470 } },
    { id: 'worker-2-0', host: 'worker-2', rate: 2500.5, control: { address: '10.0.0.12', port: 9470 }, summary: '/tmp/s.json' },
  ],
});

describe('the load-generator plan (one schema, one set of bounds)', () => {
  it('fills defaults and gives each instance its settings, with the shared token on its control server', () => {
    const p = parsePlan(plan(), 'plan.json');
    expect(p.shared.durationS).toBe(30);
    expect(p.shared.driver).toEqual({ name: 'native', maxInflight: 5, connections: 1 });
    expect(p.shared.timeouts).toEqual({ requestMs: 10000, stallMs: 20000, connectMs: 15000, startMs: 180000, maxLateMs: 2000 });
    const s = instanceSettings(p, 'worker-2-0');
    expect(s).toMatchObject({ instance: 'worker-2-0', host: 'worker-2', rate: 2500.5, messageSize: 512, summary: '/tmp/s.json' });
    expect(s.control).toEqual({ address: '10.0.0.12', port: 9470, token: TOKEN });
    expect(() => instanceSettings(p, 'nope', 'plan.json')).toThrow(/plan.json: no generator "nope" \(the plan has worker-1-0, worker-2-0\)/);
  });

  it('a plan file that waits for POST /start must carry a token; a fixed start needs none', () => {
    const noToken = plan({ control: {} });
    expect(() => parsePlan(noToken, 'run/plan.json')).toThrow(/run\/plan.json: shared.control.token: is required when the generators wait for POST \/start \(sent as "Authorization: Bearer <token>"\)/);
    expect(parsePlan(plan({ control: {}, startAt: 1_700_000_000_000 }), 'p').shared.startAt).toBe(1_700_000_000_000);
    expect(() => parsePlan(plan({ control: { token: 'short' } }), 'p')).toThrow(/shared.control.token/);
  });

  it('names the file and the key of a bad value, and refuses unknown keys', () => {
    const cases: Array<[LoadgenPlanInput, RegExp]> = [
      [plan({ messageSize: 0 }), /^p.json: shared.messageSize: must be at least 1 \(got 0\)/],
      [plan({ messageSize: LOADGEN_BOUNDS.messageSize.max + 1 }), /shared.messageSize: must be at most 10485760/],
      [plan({ bootstrap: ['nohost'] }), /shared.bootstrap\[0\]/],
      [plan({ acks: '2' as never }), /shared.acks: must be one of "0", "1", "all"/],
      [plan({ durationS: 'soon' }), /shared.durationS: not a duration/],
      [plan({ driver: { name: 'perf-test' } as never }), /shared.driver.kafkaLibs: is required/],
      [plan({ driver: { name: 'native', maxInflight: 0 } }), /shared.driver.maxInflight: must be at least 1/],
      [plan({ driver: { name: 'native', connections: 65 } }), /shared.driver.connections: must be at most 64/],
      [plan({ lingerz: 5 } as never), /shared.lingerz: unknown key/],
      [plan({}, [{ id: 'a', rate: -1, control: { address: 'x', port: 1 } }]), /generators\[0\].rate: must be at least 0/],
      [plan({}, [{ id: 'a', rate: 1 }]), /generators\[0\].control: is required without shared.startAt/],
      [plan({}, [{ id: 'a', rate: 1, control: { address: 'x', port: 1 } }, { id: 'a', rate: 1, control: { address: 'x', port: 2 } }]), /generators\[1\].id: duplicate generator id "a"/],
    ];
    for (const [input, re] of cases) {
      const e = (() => {
        try {
          parsePlan(input, 'p.json');
        } catch (err) {
          return err;
        }
      })();
      expect(e, String(re)).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).code).toBe('loadgen.plan_invalid');
      expect((e as Error).message).toMatch(re);
    }
  });

  it('reads a plan file, and says which file is missing or not JSON', () => {
    const d = mkdtempSync(join(tmpdir(), 'gr-plan-'));
    writeFileSync(join(d, 'plan.json'), JSON.stringify(plan()));
    expect(readPlan(join(d, 'plan.json')).generators).toHaveLength(2);
    writeFileSync(join(d, 'bad.json'), '{"schema":');
    expect(() => readPlan(join(d, 'bad.json'))).toThrow(new RegExp(`${d}/bad.json: not JSON`));
    expect(() => readPlan(join(d, 'none.json'))).toThrow(/none.json: cannot read the load-generator plan \(ENOENT\)/);
  });
});

describe('the flag form validates through the same schema', () => {
  const base = { bootstrap: '127.0.0.1:9092', topic: 't' };
  it('builds a one-generator plan with the schema defaults and a start one second ahead', () => {
    const p = planFromFlags({ ...base, rate: '2000', size: '256', duration: '1m', instance: 'g1' }, {}, 1000);
    expect(p.shared).toMatchObject({ bootstrap: ['127.0.0.1:9092'], messageSize: 256, durationS: 60, warmupS: 0, lingerMs: 5, startAt: 2000 });
    expect(p.generators).toEqual([{ id: 'g1', rate: 2000 }]);
  });
  it('reports the bound of the schema under the flag name', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ rate: '-5' }, /^--rate: must be at least 0 \(got -5\)$/],
      [{ rate: 'fast' }, /^--rate: expected number, got string "fast"$/],
      [{ size: '0' }, /^--size: must be at least 1/],
      [{ size: String(LOADGEN_BOUNDS.messageSize.max + 1) }, /^--size: must be at most/],
      [{ maxInflight: '0' }, /^--max-inflight: must be at least 1/],
      [{ connections: '0' }, /^--connections: must be at least 1/],
      [{ acks: '2' }, /^--acks: must be one of/],
      [{ duration: '0' }, /^--duration: must be at least 0.1 s/],
      [{ driver: 'pulsar' }, /^--driver: must be one of native, perf-test$/],
      [{ driver: 'perf-test' }, /^--kafka-libs: is required$/],
      [{ kafkaLibs: '/x' }, /^--kafka-libs applies to --driver perf-test only$/],
      [{ driver: 'perf-test', kafkaLibs: '/x', connections: '2' }, /^--connections applies to --driver native only$/],
      [{ awaitStart: '1000' }, /^--await-start needs --metrics-port/],
      [{ metricsPort: '70000' }, /^--metrics-port: must be at most 65535/],
    ];
    for (const [flags, re] of bad) {
      const e = (() => {
        try {
          planFromFlags({ ...base, ...flags }, {});
        } catch (err) {
          return err;
        }
      })();
      expect(e, JSON.stringify(flags)).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(re);
    }
  });
  it('waits for the trigger with --await-start and takes the token from the environment', () => {
    const p = planFromFlags({ ...base, awaitStart: '5000', metricsPort: '0', metricsHost: '127.0.0.1' }, { GREENRACE_LOADGEN_TOKEN: TOKEN });
    expect(p.shared.startAt).toBeUndefined();
    expect(instanceSettings(p, p.generators[0]!.id).control).toEqual({ address: '127.0.0.1', port: 0, token: TOKEN });
    expect(p.shared.timeouts.startMs).toBe(5000);
  });
  it('--help shows the schema\'s defaults, none for required flags or the trigger wait', () => {
    const d = (key: string) => flagDefault(LOADGEN_FLAGS.find((f) => f.key === key)!);
    expect([d('size'), d('lingerMs'), d('maxInflight'), d('requestTimeout'), d('maxLate'), d('acks')]).toEqual(['1024', '5', '5', '10000', '2000', 'all']);
    expect([d('topic'), d('bootstrap'), d('awaitStart'), d('instance')]).toEqual([undefined, undefined, undefined, undefined]);
    expect(d('rate')).toBe(String(FLAG_FORM_RATE));
  });
  it('every flag sets a key the plan schema knows', () => {
    for (const f of LOADGEN_FLAGS) expect(f.path).toMatch(/^(shared\.|generators\[0\]\.)/);
  });
});
