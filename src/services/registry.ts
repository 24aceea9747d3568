import type { ExperimentBase } from '../config/schema/base.js';
import { brokersCrossCheck, kafkaSchema, redpandaSchema, type KafkaConfig, type RedpandaConfig } from './brokers.js';
import { LOADGEN_SCRAPE_JOB, SERVICES, hostsInRole, type Host, type Role, type ServiceName } from '../core/types.js';

/** Where a service runs: every host, or the hosts of one role. */
export type ServiceGroup = 'all' | Role;

/** One Prometheus scrape job, as the prometheus role renders it into prometheus.yml. */
export interface ScrapeJob {
  job_name: string;
  /** `address:port` of each target. */
  targets: string[];
  metrics_path: string;
  honor_labels: boolean;
  /** Inventory name of each target's host, by target (for a `host` label). */
  target_hosts: Record<string, string>;
  /**
   * Its role may skip a host (Scaphandre without RAPL counters) and publish so with set_stats
   * `gr_<job>: {host: {deployed: false}}`; Prometheus then leaves that host's target out.
   */
  optional?: boolean;
}

/** Jobs whose role may skip a host (the prometheus role's `prometheus_optional_jobs`). */
export const OPTIONAL_SCRAPE_JOBS: readonly string[] = ['scaphandre'];

/** A target Prometheus is expected to scrape once setup is done. */
export interface ExpectedTarget {
  job: string;
  /** `address:port`, as Prometheus names the instance. */
  instance: string;
  /** Inventory name of its host. */
  host: string;
}

/**
 * The targets Prometheus scrapes after a play: every scrape job's targets, without those an optional
 * job's role skipped (what it published with set_stats, `custom._run.gr_<job>.<host>.deployed`),
 * exactly as the prometheus role's template keeps them. Empty when Prometheus is not deployed.
 */
export function expectedTargets(plan: Pick<ServicePlan, 'services' | 'scrapeJobs'>, published: Record<string, unknown> = {}): ExpectedTarget[] {
  if (!plan.services.includes('prometheus')) return [];
  const run = ((published._run ?? published) as Record<string, unknown>) ?? {};
  const out: ExpectedTarget[] = [];
  for (const j of plan.scrapeJobs) {
    const status = (j.optional ? run[`gr_${j.job_name}`] : undefined) as Record<string, { deployed?: boolean }> | undefined;
    for (const t of j.targets) {
      const host = j.target_hosts[t] ?? '';
      if (status?.[host]?.deployed === false) continue;
      out.push({ job: j.job_name, instance: t, host });
    }
  }
  return out;
}

/** The experiment sections the services own (the whole experiment schema takes them from here). */
export const SERVICE_SECTIONS = { kafka: kafkaSchema, redpanda: redpandaSchema } as const;

/** What services read of an experiment: the base sections and their own. */
export type ServiceConfig = ExperimentBase & { kafka: KafkaConfig; redpanda: RedpandaConfig };
type Experiment = ServiceConfig;

/** The services' cross-checks (their sections against the roles). */
export const servicesCrossCheck = brokersCrossCheck;

export interface ServiceContext {
  experiment: Experiment;
  hosts: Host[];
}

export interface ServiceDef {
  name: ServiceName;
  /** The Ansible role under ansible/roles/ (same name as the service). */
  role: string;
  /** The inventory group whose hosts run it. */
  group: ServiceGroup;
  /** `each`: on every host of the group; `first`: on the group's first host only. */
  placement: 'each' | 'first';
  /** Position in setup (destroy runs the reverse). */
  order: number;
  summary: string;
  /** Named ports it listens on (the first is the main one). */
  ports(e: Experiment): Record<string, number>;
  /** Extra-vars for its role, besides `<role>_action` and the shared gr_* variables. */
  vars(e: Experiment): Record<string, unknown>;
  /** Scrape jobs it contributes to Prometheus. */
  scrapeJobs(ctx: ServiceContext, hosts: Host[]): ScrapeJob[];
  /** Endpoints it publishes once deployed (URLs, bootstrap servers). */
  endpoints(ctx: ServiceContext, hosts: Host[]): Record<string, string>;
}

export const hostPort = (h: Pick<Host, 'address'>, port: number): string => `${h.address.includes(':') ? `[${h.address}]` : h.address}:${port}`;

function job(name: string, hosts: Host[], port: number, opts: { path?: string; honorLabels?: boolean } = {}): ScrapeJob {
  const targets = hosts.map((h) => hostPort(h, port));
  return {
    job_name: name,
    targets,
    metrics_path: opts.path ?? '/metrics',
    honor_labels: opts.honorLabels ?? false,
    target_hosts: Object.fromEntries(hosts.map((h, i) => [targets[i]!, h.name])),
    ...(OPTIONAL_SCRAPE_JOBS.includes(name) ? { optional: true } : {}),
  };
}

const none = (): Record<string, string> => ({});

/** The generators' job (core/types.ts): its targets live in a file (file_sd) in Prometheus' folder on its host. */
export { LOADGEN_SCRAPE_JOB };
/** Jobs whose targets the runs publish through file_sd (the prometheus role creates them empty). */
export const FILE_SD_JOBS: readonly string[] = [LOADGEN_SCRAPE_JOB];

/** The host Prometheus runs on in an experiment with these services (undefined when not deployed). */
export function prometheusHost(services: readonly string[], hosts: Host[]): Host | undefined {
  if (!services.includes('prometheus')) return undefined;
  return serviceHosts(serviceDef('prometheus'), hosts)[0];
}

export const PORTS = {
  node_exporter: 9100,
  prometheus: 9090,
  pushgateway: 9091,
  scaphandre: 8080,
} as const;

/** The services `setup` can deploy, in deploy order. */
export const REGISTRY: readonly ServiceDef[] = [
  {
    name: 'node_exporter',
    role: 'node_exporter',
    group: 'all',
    placement: 'each',
    order: 20,
    summary: 'Prometheus node exporter on every host',
    ports: () => ({ metrics: PORTS.node_exporter }),
    vars: () => ({ node_exporter_port: PORTS.node_exporter }),
    scrapeJobs: (_ctx, hosts) => [job('node', hosts, PORTS.node_exporter)],
    endpoints: none,
  },
  {
    name: 'scaphandre',
    role: 'scaphandre',
    group: 'all',
    placement: 'each',
    order: 30,
    summary: 'Scaphandre power exporter on every host',
    ports: () => ({ metrics: PORTS.scaphandre }),
    vars: () => ({ scaphandre_port: PORTS.scaphandre }),
    scrapeJobs: (_ctx, hosts) => [job('scaphandre', hosts, PORTS.scaphandre)],
    endpoints: none,
  },
  {
    name: 'pushgateway',
    role: 'pushgateway',
    group: 'control',
    placement: 'first',
    order: 40,
    summary: 'Prometheus Pushgateway on the first control host',
    ports: () => ({ http: PORTS.pushgateway }),
    vars: () => ({ pushgateway_port: PORTS.pushgateway }),
    // Pushed series carry their own job/instance labels: keep them.
    scrapeJobs: (_ctx, hosts) => [job('pushgateway', hosts, PORTS.pushgateway, { honorLabels: true })],
    endpoints: (_ctx, hosts) => (hosts[0] ? { pushgateway_url: `http://${hostPort(hosts[0], PORTS.pushgateway)}` } : none()),
  },
  {
    name: 'kafka',
    role: 'kafka',
    group: 'broker',
    placement: 'each',
    order: 50,
    summary: 'Apache Kafka (KRaft, combined broker+controller) on every broker host',
    ports: (e) => ({ client: e.kafka.port, controller: e.kafka.controller_port, jmx_exporter: e.kafka.jmx_exporter_port }),
    vars: (e) => ({ kafka_port: e.kafka.port, kafka_controller_port: e.kafka.controller_port, kafka_jmx_exporter_port: e.kafka.jmx_exporter_port }),
    scrapeJobs: (ctx, hosts) => [job('kafka', hosts, ctx.experiment.kafka.jmx_exporter_port)],
    endpoints: (ctx, hosts) =>
      hosts.length ? { kafka_bootstrap_servers: hosts.map((h) => hostPort(h, ctx.experiment.kafka.port)).join(',') } : none(),
  },
  {
    name: 'redpanda',
    role: 'redpanda',
    group: 'broker',
    placement: 'each',
    order: 60,
    summary: 'Redpanda (production mode) on every broker host',
    ports: (e) => ({ kafka: e.redpanda.port, admin: e.redpanda.admin_port, rpc: e.redpanda.rpc_port }),
    vars: (e) => ({ redpanda_port: e.redpanda.port, redpanda_admin_port: e.redpanda.admin_port, redpanda_rpc_port: e.redpanda.rpc_port }),
    scrapeJobs: (ctx, hosts) => [job('redpanda', hosts, ctx.experiment.redpanda.admin_port, { path: '/public_metrics' })],
    endpoints: (ctx, hosts) =>
      hosts.length
        ? {
            redpanda_bootstrap_servers: hosts.map((h) => hostPort(h, ctx.experiment.redpanda.port)).join(','),
            redpanda_admin_url: `http://${hostPort(hosts[0]!, ctx.experiment.redpanda.admin_port)}`,
          }
        : none(),
  },
  {
    name: 'prometheus',
    role: 'prometheus',
    group: 'control',
    placement: 'first',
    order: 70,
    summary: 'Prometheus on the first control host, scraping every exporter above (deployed last)',
    ports: () => ({ http: PORTS.prometheus }),
    vars: () => ({ prometheus_port: PORTS.prometheus, prometheus_file_sd_jobs: [...FILE_SD_JOBS], prometheus_optional_jobs: [...OPTIONAL_SCRAPE_JOBS] }),
    scrapeJobs: (_ctx, hosts) => [job('prometheus', hosts, PORTS.prometheus)],
    endpoints: (_ctx, hosts) => (hosts[0] ? { prometheus_url: `http://${hostPort(hosts[0], PORTS.prometheus)}` } : none()),
  },
];

const BY_NAME = new Map(REGISTRY.map((s) => [s.name, s]));

export function serviceDef(name: ServiceName): ServiceDef {
  const d = BY_NAME.get(name);
  if (!d) throw new Error(`service ${name} is not in the registry`);
  return d;
}

/** The experiment's services in deploy order (the order of the experiment file does not matter). */
export function orderedServices(names: readonly ServiceName[]): ServiceDef[] {
  return [...new Set(names)].map(serviceDef).sort((a, b) => a.order - b.order);
}

/** The Ansible host pattern of a service: `all`, `broker`, `control[0]`. */
export function hostPattern(d: ServiceDef): string {
  return d.placement === 'first' ? `${d.group}[0]` : d.group;
}

/** The hosts a service runs on, in inventory order. */
export function serviceHosts(d: ServiceDef, hosts: Host[]): Host[] {
  const inGroup = d.group === 'all' ? hosts : hostsInRole({ hosts }, d.group);
  return d.placement === 'first' ? inGroup.slice(0, 1) : inGroup;
}

export interface ServicePlan {
  services: ServiceName[];
  /** service → host pattern, for the plays of setup.yml / destroy.yml. */
  hostPatterns: Record<string, string>;
  /** service → host names. */
  hosts: Record<string, string[]>;
  ports: Record<string, Record<string, number>>;
  scrapeJobs: ScrapeJob[];
  endpoints: Record<string, string>;
  /** Extra-vars from the registry for the roles (e.g. `node_exporter_port`). */
  roleVars: Record<string, unknown>;
}

/** Everything the registry says about an experiment's services on a set of hosts. */
export function planServices(experiment: Experiment, hosts: Host[]): ServicePlan {
  const ctx: ServiceContext = { experiment, hosts };
  const defs = orderedServices(experiment.services);
  const plan: ServicePlan = { services: [], hostPatterns: {}, hosts: {}, ports: {}, scrapeJobs: [], endpoints: {}, roleVars: {} };
  for (const d of defs) {
    const on = serviceHosts(d, hosts);
    plan.services.push(d.name);
    plan.hostPatterns[d.name] = hostPattern(d);
    plan.hosts[d.name] = on.map((h) => h.name);
    plan.ports[d.name] = d.ports(experiment);
    Object.assign(plan.roleVars, d.vars(experiment));
    // Only Prometheus reads scrape jobs, but every deployed exporter contributes them.
    plan.scrapeJobs.push(...d.scrapeJobs(ctx, on).filter((j) => j.targets.length > 0));
    Object.assign(plan.endpoints, d.endpoints(ctx, on));
  }
  return plan;
}

/** Every known service, for help texts and checks. */
export const ALL_SERVICES: readonly ServiceName[] = SERVICES;
