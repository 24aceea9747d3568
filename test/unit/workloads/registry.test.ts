/** The registries are the only lists: workloads (with their sections and flags) and network tools. */
import { describe, expect, it } from 'vitest';
import { allowedKeysAt } from '../../../src/config/schema-walk.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import { WORKLOADS, WORKLOAD_SECTIONS, workload } from '../../../src/workloads/registry.js';
import { LATENCY_TOOLS, MEASURE_TOOLS, PARSE_TOOLS, TOOLS, installOf, toolOfProgram } from '../../../src/workloads/net/tools/registry.js';
import { racefileSchema } from '../../../src/workloads/race/schema.js';
import { toolNeedsOf } from '../../../src/app/preflight.js';

const exp = (o: Record<string, unknown> = {}) => experimentSchema.safeParse({ name: 'reg', ...o });

describe('workload registry', () => {
  it('lists ingest, net, matrix, race and baseline, each with a run and its flags', () => {
    expect(WORKLOADS.map((w) => w.name)).toEqual(['ingest', 'net', 'matrix', 'race', 'baseline']);
    for (const w of WORKLOADS) expect(typeof w.run).toBe('function');
    expect(workload('net').name).toBe('net');
    expect(() => workload('nope')).toThrow(/no workload named nope/);
  });

  it("puts each workload's own section into the experiment schema, with its defaults", () => {
    expect(Object.keys(WORKLOAD_SECTIONS).sort()).toEqual(['ingest', 'net']);
    const r = exp();
    expect(r.success).toBe(true);
    expect(r.data!.ingest.load).toBe(5000);
    expect(r.data!.net.tool).toBe('iperf3');
  });

  it('declares every flag once, on a key the experiment schema has', () => {
    for (const w of WORKLOADS) {
      const names = w.flags.map((f) => f.name);
      expect(new Set(names).size, w.name).toBe(names.length);
      for (const f of w.flags) {
        const parts = f.path.split('.');
        expect(allowedKeysAt(experimentSchema, parts.slice(0, -1)), `${w.name} --${f.name} → ${f.path}`).toContain(parts.at(-1));
      }
    }
    expect(workload('ingest').flags.map((f) => f.path)).toContain('ingest.partitions');
    expect(workload('matrix').flags.find((f) => f.name === 'tool')?.path).toBe('net.matrix.tool');
  });

  it('runs the workloads\' own cross-checks with the experiment\'s', () => {
    const r = exp({ roles: { broker: 1 }, services: ['kafka'], kafka: { replication_factor: 1, min_insync_replicas: 1 }, ingest: { replication_factor: 2 } });
    expect(r.success).toBe(true);
    const fail = (path: string, msg: string): never => {
      throw new Error(`${path}: ${msg}`);
    };
    expect(() => workload('ingest').crossCheck!(r.data!, fail)).toThrow('ingest.replication_factor: is 2 but there are only 1 broker hosts');
  });
});

describe('network tool registry', () => {
  it('is the only list of tool names: config enums and racefile parsers come from it', () => {
    expect(TOOLS.map((t) => t.name)).toEqual(['iperf3', 'uperf', 'netperf', 'sockperf', 'wrk', 'nginx']);
    expect(MEASURE_TOOLS).toEqual(['iperf3', 'uperf', 'netperf', 'sockperf']);
    expect(LATENCY_TOOLS).toEqual(['netperf', 'sockperf']);
    expect(PARSE_TOOLS).toEqual(['iperf3', 'uperf', 'netperf', 'sockperf', 'wrk']);
    // net.tool accepts exactly the measuring tools; a collector parses exactly what has a parser.
    for (const t of MEASURE_TOOLS) expect(exp({ net: { tool: t } }).success).toBe(true);
    expect(exp({ net: { tool: 'wrk' } }).success).toBe(false);
    expect(exp({ net: { matrix: { tool: 'iperf3' } } }).success).toBe(false);
    const race = (parse: string) => racefileSchema.safeParse({ benchmark: [{ role: 'worker', command: 'true' }], collectors: [{ type: 'file', role: 'worker', source: 'x', parse }] }).success;
    expect(race('wrk')).toBe(true);
    expect(race('nginx')).toBe(false);
  });

  it("maps a racefile's required programs to what net-tools.yml installs", () => {
    expect(toolOfProgram('netserver')?.name).toBe('netperf');
    expect(installOf('nginx')).toEqual({ packages: ['nginx-light'] });
    expect(toolNeedsOf(['nginx', 'wrk', 'no-such-tool'], false)).toEqual({ packages: ['nginx-light', 'wrk'], programs: { 'nginx-light': 'nginx', wrk: 'wrk' } });
    expect(toolNeedsOf(['uperf'], true, '/src/uperf.tgz')).toEqual({ packages: [], uperf: true, pcp: true, uperfSource: '/src/uperf.tgz' });
  });
});
