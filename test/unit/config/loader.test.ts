import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSet, deepMerge, listExperiments } from '../../../src/config/loader.js';
import { loadExperiment } from '../../../src/experiment/load.js';
import { ConfigError, UsageError, ExitCode } from '../../../src/core/errors.js';

let home: string;
const prevHome = process.env.GREENRACE_HOME;

function write(name: string, text: string): string {
  const p = join(home, 'experiments', name);
  writeFileSync(p, text);
  return p;
}

function loadError(ref: string, opts = {}): ConfigError | UsageError {
  try {
    loadExperiment(ref, opts);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`loading ${ref} did not fail`);
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'gr-config-'));
  mkdirSync(join(home, 'experiments'));
  process.env.GREENRACE_HOME = home;
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  if (prevHome === undefined) delete process.env.GREENRACE_HOME;
  else process.env.GREENRACE_HOME = prevHome;
});

describe('shipped experiments', () => {
  it.each(['quickstart', 'ingest-kafka', 'ingest-redpanda', 'net-local', 'race-local'])('%s loads and validates', (name) => {
    const { experiment } = loadExperiment(name);
    expect(experiment.name).toBe(name);
    expect(experiment.roles.control + experiment.roles.broker + experiment.roles.worker).toBeGreaterThan(0);
  });

  it('quickstart is local and deploys the monitoring stack and kafka', () => {
    const { experiment } = loadExperiment('quickstart');
    expect(experiment.platform.kind).toBe('local');
    expect(experiment.services).toEqual(expect.arrayContaining(['node_exporter', 'prometheus', 'pushgateway', 'kafka']));
  });

  it('ingest-redpanda extends ingest-kafka and swaps the broker', () => {
    const { experiment, files } = loadExperiment('ingest-redpanda');
    expect(files).toHaveLength(2);
    expect(files[1]).toMatch(/ingest-kafka\.yaml$/);
    expect(experiment.roles.broker).toBe(3);
    expect(experiment.ingest.broker).toBe('redpanda');
    expect(experiment.services).toContain('redpanda');
    expect(experiment.services).not.toContain('kafka');
  });

  it('the user working directory is searched before the shipped experiments', () => {
    write('quickstart.yaml', 'roles: {control: 1, broker: 0, worker: 7}\n');
    expect(loadExperiment('quickstart').experiment.roles.worker).toBe(7);
    expect(listExperiments()).toContain('quickstart');
  });
});

describe('defaults and normalisation', () => {
  it('fills defaults and turns durations into seconds', () => {
    write('d.yaml', 'ingest: {duration: 2m, warmup: 1500ms}\nmonitoring: {scrape_interval: 5s}\n');
    const { experiment } = loadExperiment('d');
    expect(experiment.ingest.duration).toBe(120);
    expect(experiment.ingest.warmup).toBe(1.5);
    expect(experiment.monitoring.scrape_interval).toBe(5);
    expect(experiment.platform.kind).toBe('local');
    expect(experiment.runtime).toBe('host');
    expect(experiment.kafka.heap).toBe('512m');
  });

  it('an empty file is a valid experiment with defaults', () => {
    write('empty.yaml', '');
    expect(loadExperiment('empty').experiment.roles).toEqual({ control: 1, broker: 0, worker: 1 });
  });
});

describe('errors name the file, the key and what is allowed', () => {
  it('YAML syntax error gives file:line:column', () => {
    write('bad.yaml', 'roles:\n  worker: [1, 2\n');
    const e = loadError('bad');
    expect(e.code).toBe('config.yaml_syntax');
    expect(e.message).toMatch(/bad\.yaml:\d+:\d+: YAML syntax error/);
    expect(e.exitCode).toBe(ExitCode.usage);
  });

  it('unknown key lists the allowed keys', () => {
    write('uk.yaml', 'roles:\n  wrker: 3\n');
    const e = loadError('uk');
    expect(e.message).toContain('uk.yaml');
    expect(e.message).toContain('roles.wrker');
    expect(e.message).toContain('unknown key "wrker"');
    expect(e.message).toContain('allowed: control, broker, worker');
  });

  it('unknown top-level key', () => {
    write('top.yaml', 'servics: []\n');
    const e = loadError('top');
    expect(e.message).toMatch(/servics: unknown key "servics"; allowed: .*services/);
  });

  it('wrong type says what was expected and what was given', () => {
    write('wt.yaml', 'roles:\n  worker: three\n');
    const e = loadError('wt');
    expect(e.message).toContain('roles.worker: expected number, got string "three"');
  });

  it('out of range number names the bound', () => {
    write('oor.yaml', 'ingest:\n  message_size: 0\n');
    const e = loadError('oor');
    expect(e.message).toContain('ingest.message_size: must be at least 1 (got 0)');
  });

  it('enum lists the allowed values', () => {
    write('en.yaml', 'ingest:\n  broker: pulsar\n');
    const e = loadError('en');
    expect(e.message).toContain('ingest.broker: must be one of "kafka", "redpanda" (got "pulsar")');
  });

  it('unknown service name lists the services', () => {
    write('sv.yaml', 'services: [node_exporter, grafana]\n');
    const e = loadError('sv');
    expect(e.message).toContain('services[1]');
    expect(e.message).toContain('"prometheus"');
  });

  it('k3s listed as a service says the cluster comes with the runtime', () => {
    write('k3.yaml', 'services: [node_exporter, k3s]\n');
    const e = loadError('k3');
    expect(e.message).toContain('k3.yaml');
    expect(e.message).toContain('services[1]: k3s is not a service: the cluster comes with `runtime: k3s`');
  });

  it('bad duration', () => {
    write('du.yaml', 'ingest: {duration: soon}\n');
    expect(loadError('du').message).toContain('ingest.duration: not a duration: "soon"');
  });

  it('unknown experiment lists the available ones', () => {
    write('mine.yaml', '');
    const e = loadError('nosuch');
    expect(e.code).toBe('config.unknown_experiment');
    expect(e.message).toContain('unknown experiment "nosuch"');
    expect(e.message).toMatch(/available: .*mine/);
  });

  it('a missing file given as a path', () => {
    const e = loadError('./nowhere/x.yaml');
    expect(e.code).toBe('config.not_found');
    expect(e.message).toContain('x.yaml does not exist');
  });

  it('a list at the top level', () => {
    write('list.yaml', '- a\n- b\n');
    expect(loadError('list').code).toBe('config.not_mapping');
  });

  it('name is not a key', () => {
    write('nm.yaml', 'name: other\n');
    expect(loadError('nm').code).toBe('config.name_key');
  });

  it('extends cycle is detected', () => {
    write('a.yaml', 'extends: b\n');
    write('b.yaml', 'extends: a\n');
    const e = loadError('a');
    expect(e.code).toBe('config.extends_cycle');
    expect(e.message).toMatch(/a\.yaml → .*b\.yaml → .*a\.yaml/);
  });

  it('extends of a missing base names the key', () => {
    write('c.yaml', 'extends: nothere\n');
    const e = loadError('c');
    expect(e.code).toBe('config.extends_missing');
    expect(e.message).toContain('extends: unknown experiment "nothere"');
  });

  it('cross-field: replication factor above broker count', () => {
    write('rf.yaml', 'roles: {broker: 1}\nservices: [kafka]\n');
    const e = loadError('rf');
    expect(e.message).toContain('kafka.replication_factor: is 3 but there are only 1 broker hosts');
  });

  it('cross-field: prometheus without a control host', () => {
    write('pc.yaml', 'roles: {control: 0, worker: 1}\nservices: [prometheus]\n');
    expect(loadError('pc').message).toContain('roles.control');
  });

  it('cross-field: static platform without inventory', () => {
    write('st.yaml', 'platform: {kind: static}\n');
    expect(loadError('st').message).toContain('platform.static.inventory');
  });
});

describe('overrides', () => {
  it('--set values are read as YAML and applied after extends', () => {
    write('base.yaml', 'roles: {worker: 2}\n');
    write('child.yaml', 'extends: base\nroles: {broker: 1}\n');
    const { experiment } = loadExperiment('child', { set: ['roles.worker=5', 'services=[node_exporter]', 'ingest.acks=1'] });
    expect(experiment.roles).toEqual({ control: 1, broker: 1, worker: 5 });
    expect(experiment.services).toEqual(['node_exporter']);
    expect(experiment.ingest.acks).toBe('1');
  });

  it('an error in an override names the flag, not the file', () => {
    write('o.yaml', '');
    const e = loadError('o', { set: ['roles.worker=-1'] });
    expect(e.message).toMatch(/^--set roles\.worker: must be at least 0/);
  });

  it('typed overrides name their flag', () => {
    write('o2.yaml', '');
    const e = loadError('o2', { overrides: [{ path: 'ingest.load', value: -5, flag: '--load' }] });
    expect(e.message).toMatch(/^--load \(ingest\.load\): must be greater than 0/);
  });

  it('a malformed --set is a usage error', () => {
    expect(() => parseSet('novalue')).toThrow(UsageError);
    expect(() => parseSet('a..b=1')).toThrow(/expected key\.path=value/);
    expect(parseSet('a.b=3')).toEqual({ path: 'a.b', value: 3 });
    expect(parseSet('a.b=x=y')).toEqual({ path: 'a.b', value: 'x=y' });
  });

  it('deepMerge merges mappings and replaces lists', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });
});
