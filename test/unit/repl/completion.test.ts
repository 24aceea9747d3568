import { describe, expect, it } from 'vitest';
import { complete, type CompletionSources } from '../../../src/repl/completion.js';

const src: CompletionSources = {
  helpers: ['loadConfig', 'hosts', 'sh', 'fetch', 'query', 'energy', 'cfg', 'last', 'help', 'p'],
  config: { ingest: { load: 1, message_size: 2, instances: 1 }, kafka: { partitions: 3 }, roles: { worker: 1 } },
  experiments: ['ingest-kafka', 'ingest-redpanda', 'quickstart'],
  hosts: ['qs-c1', 'qs-w1', 'qs-w2'],
  playbooks: ['destroy', 'monitoring-stack', 'setup'],
};

describe('tab completion', () => {
  it('completes helper names', () => {
    expect(complete('loadC', src)).toEqual([['loadConfig'], 'loadC']);
    expect(complete('const r = e', src)).toEqual([['energy'], 'e']);
    expect(complete('h', src)![0]).toEqual(['help', 'hosts']);
  });

  it('completes roles, all and host names inside sh/hosts/fetch', () => {
    expect(complete("sh('wo", src)).toEqual([['worker'], 'wo']);
    expect(complete("hosts('", src)![0]).toEqual(['all', 'broker', 'control', 'qs-c1', 'qs-w1', 'qs-w2', 'worker']);
    expect(complete('fetch("qs-w', src)).toEqual([['qs-w1', 'qs-w2'], 'qs-w']);
  });

  it('completes services and playbooks for p()', () => {
    expect(complete("p('k", src)).toEqual([['kafka'], 'k']);
    expect(complete("p('mon", src)).toEqual([['monitoring-stack'], 'mon']);
  });

  it('completes experiments and configuration keys for loadConfig', () => {
    expect(complete("loadConfig('ingest-", src)).toEqual([['ingest-kafka', 'ingest-redpanda'], 'ingest-']);
    expect(complete("loadConfig({ 'ingest.m", src)).toEqual([['ingest.message_size'], 'ingest.m']);
  });

  it('completes cfg key paths level by level', () => {
    expect(complete('cfg.in', src)).toEqual([['ingest'], 'in']);
    expect(complete('cfg.ingest.', src)).toEqual([['instances', 'load', 'message_size'], '']);
    expect(complete('x = cfg.kafka.p', src)).toEqual([['partitions'], 'p']);
  });

  it('leaves other JavaScript to the default completer', () => {
    expect(complete('Math.fl', src)).toBeUndefined();
    expect(complete('zzz', src)).toBeUndefined();
  });
});
