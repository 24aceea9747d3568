import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { playbookPath } from '../../../src/ansible/config.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import { SERVICES, type Host } from '../../../src/core/types.js';
import { REGISTRY, expectedTargets, hostPattern, orderedServices, planServices, prometheusHost, serviceDef } from '../../../src/services/registry.js';

const exp = (services: string[], extra: Record<string, unknown> = {}) =>
  experimentSchema.parse({ name: 'app-reg', roles: { control: 1, broker: 2, worker: 2 }, services, ...extra });
const h = (name: string, address: string, role: Host['roles'][number]): Host => ({ name, address, port: 22, user: 'root', roles: [role] });
const hosts = [h('c1', '10.9.0.11', 'control'), h('b1', '10.9.0.12', 'broker'), h('b2', '10.9.0.13', 'broker'), h('w1', '10.9.0.14', 'worker'), h('w2', '10.9.0.15', 'worker')];

describe('service registry', () => {
  it('knows every service, each with a role of the same name', () => {
    expect(REGISTRY.map((s) => s.name).sort()).toEqual([...SERVICES].sort());
    for (const s of REGISTRY) expect(s.role).toBe(s.name);
  });

  it('orders services for deployment whatever the experiment file order: exporters first, Prometheus last', () => {
    expect(orderedServices(['prometheus', 'kafka', 'node_exporter', 'pushgateway']).map((s) => s.name)).toEqual([
      'node_exporter', 'pushgateway', 'kafka', 'prometheus',
    ]);
  });

  it('places services on their groups', () => {
    expect(Object.fromEntries(REGISTRY.map((s) => [s.name, hostPattern(s)]))).toEqual({
      node_exporter: 'all', scaphandre: 'all', pushgateway: 'control[0]', kafka: 'broker', redpanda: 'broker', prometheus: 'control[0]',
    });
  });

  it('has Prometheus watch a file_sd target file for the load generators, on the first control host', () => {
    const plan = planServices(exp(['node_exporter', 'kafka', 'prometheus']), hosts);
    expect(plan.roleVars.prometheus_file_sd_jobs).toEqual(['greenrace_loadgen']);
    expect(prometheusHost(plan.services, hosts)?.name).toBe('c1');
    expect(prometheusHost(['node_exporter', 'kafka'], hosts)).toBeUndefined();
  });

  it('expects every scrape target Prometheus is given, without the hosts where Scaphandre was skipped (as the role published)', () => {
    const plan = planServices(exp(['node_exporter', 'scaphandre', 'prometheus']), hosts.slice(0, 2));
    expect(plan.roleVars.prometheus_optional_jobs).toEqual(['scaphandre']);
    const published = { _run: { gr_scaphandre: { c1: { deployed: true }, b1: { deployed: false } } } };
    expect(expectedTargets(plan, published)).toEqual([
      { job: 'node', instance: '10.9.0.11:9100', host: 'c1' },
      { job: 'node', instance: '10.9.0.12:9100', host: 'b1' },
      { job: 'scaphandre', instance: '10.9.0.11:8080', host: 'c1' },
      { job: 'prometheus', instance: '10.9.0.11:9090', host: 'c1' },
    ]);
    expect(expectedTargets(planServices(exp(['node_exporter']), hosts), published)).toEqual([]);
  });

  it('gives Prometheus a scrape job per deployed exporter, with targets host:port', () => {
    const plan = planServices(exp(['node_exporter', 'pushgateway', 'kafka', 'prometheus']), hosts);
    const jobs = Object.fromEntries(plan.scrapeJobs.map((j) => [j.job_name, j]));
    expect(Object.keys(jobs)).toEqual(['node', 'pushgateway', 'kafka', 'prometheus']);
    expect(jobs.node!.targets).toEqual(['10.9.0.11:9100', '10.9.0.12:9100', '10.9.0.13:9100', '10.9.0.14:9100', '10.9.0.15:9100']);
    expect(jobs.node!.target_hosts['10.9.0.14:9100']).toBe('w1');
    expect(jobs.pushgateway).toMatchObject({ targets: ['10.9.0.11:9091'], honor_labels: true });
    expect(jobs.kafka).toMatchObject({ targets: ['10.9.0.12:7071', '10.9.0.13:7071'], metrics_path: '/metrics', honor_labels: false });
    expect(jobs.prometheus!.targets).toEqual(['10.9.0.11:9090']);
  });

  it('publishes endpoints: Prometheus and Pushgateway URLs, bootstrap servers from the configured port', () => {
    const plan = planServices(exp(['pushgateway', 'kafka', 'prometheus'], { kafka: { port: 19092, replication_factor: 2, min_insync_replicas: 1 } }), hosts);
    expect(plan.endpoints).toEqual({
      prometheus_url: 'http://10.9.0.11:9090',
      pushgateway_url: 'http://10.9.0.11:9091',
      kafka_bootstrap_servers: '10.9.0.12:19092,10.9.0.13:19092',
    });
    expect(plan.roleVars).toMatchObject({ kafka_port: 19092, prometheus_port: 9090, pushgateway_port: 9091 });
    expect(plan.hosts.kafka).toEqual(['b1', 'b2']);
  });

  it('scrapes Redpanda on its admin port at /public_metrics', () => {
    const plan = planServices(exp(['redpanda']), hosts);
    expect(plan.scrapeJobs).toEqual([expect.objectContaining({ job_name: 'redpanda', metrics_path: '/public_metrics', targets: ['10.9.0.12:9644', '10.9.0.13:9644'] })]);
    expect(plan.endpoints.redpanda_bootstrap_servers).toBe('10.9.0.12:9092,10.9.0.13:9092');
  });

  it('plans nothing for no services', () => {
    expect(planServices(exp([]), hosts)).toMatchObject({ services: [], scrapeJobs: [], endpoints: {} });
  });

  it('setup.yml deploys in registry order and destroy.yml destroys in reverse, each with <service>_action', () => {
    const order = [...REGISTRY].sort((a, b) => a.order - b.order).map((s) => s.name);
    for (const [book, action, want] of [
      ['setup', 'deploy', order],
      ['destroy', 'destroy', [...order].reverse()],
    ] as const) {
      const plays = yaml.load(readFileSync(playbookPath(book), 'utf8')) as Array<{ name: string; hosts: string; tasks: Array<Record<string, any>> }>;
      const svc = plays.filter((p) => p.name.startsWith(action === 'deploy' ? 'Deploy ' : 'Destroy '));
      expect(svc.map((p) => p.name.split(' ')[1])).toEqual(want);
      for (const p of svc) {
        const s = p.name.split(' ')[1]!;
        expect(p.hosts).toBe(`{{ gr_service_hosts['${s}'] | default('all:!all') }}`);
        const inc = p.tasks[0]!;
        expect(inc['ansible.builtin.include_role']).toEqual({ name: serviceDef(s as never).role });
        expect(inc.vars).toEqual({ [`${s}_action`]: action });
      }
    }
  });
});
