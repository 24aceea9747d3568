/**
 * The services of an experiment with `runtime: k3s`, as Kubernetes objects (templates/k8s/kafka.yaml.njk,
 * monitoring.yaml.njk): which services run on the cluster, and the templates' variables computed from
 * the same registry plan the Ansible roles get (ports, scrape jobs, endpoints). Pure: the use case
 * (app/k8s-services.ts) applies them.
 *
 * Every service runs on its node's network (hostNetwork): a service's address is its host's, so the
 * endpoints the registry computes (bootstrap servers, Prometheus and Pushgateway URLs), the scrape
 * targets, the file_sd files and the run window push are the same as on hosts, and the controller
 * reaches the brokers directly (topics through the admin protocol) without a port-forward to keep alive.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import yaml from 'js-yaml';
import { assetPath } from '../core/paths.js';
import { hostsInRole, type ServiceName, type WorkHost } from '../core/types.js';
import { SCAPHANDRE_MIN_SCRAPE_SECONDS } from '../metrics/energy/scaphandre.js';
import { dnsName } from '../runtimes/k8s/manifests.js';
import { FILE_SD_JOBS, PORTS, serviceDef, serviceHosts, type ServiceConfig, type ServicePlan } from './registry.js';
import { fileSdPath } from './access.js';

/** Services greenrace deploys as Kubernetes objects (the others have no manifests yet). */
export const K8S_SERVICES: readonly ServiceName[] = ['node_exporter', 'scaphandre', 'pushgateway', 'kafka', 'prometheus'];

/** Why a service cannot run on the cluster (undefined: it can). */
export function notOnK8s(name: ServiceName): string | undefined {
  if (K8S_SERVICES.includes(name)) return undefined;
  if (name === 'redpanda') return 'its manifests (templates/k8s/redpanda.yaml.njk) need a Redpanda image, and no Redpanda binary or image can be had on this machine';
  return 'it has no Kubernetes manifests';
}

/** The template of each service on the cluster (monitoring services share one). */
export const K8S_TEMPLATE: Record<string, 'kafka.yaml.njk' | 'monitoring.yaml.njk' | 'scaphandre.yaml.njk'> = {
  node_exporter: 'monitoring.yaml.njk',
  scaphandre: 'scaphandre.yaml.njk',
  pushgateway: 'monitoring.yaml.njk',
  prometheus: 'monitoring.yaml.njk',
  kafka: 'kafka.yaml.njk',
};

/**
 * scaphandre.yaml.njk's variables. `vmRoot`: the folder holding one data folder per node, named as
 * the node, when every host's data folder is such a folder (the local platform's namespace hosts:
 * <state>/hosts/<name>); the DaemonSet then mounts <vmRoot>/<node>/powercap, the tree the scaphandre
 * role's --vm mode reads on namespace hosts (gr_netns). Elsewhere the pods read the machine's /sys/class/powercap.
 */
export function scaphandreVars(hosts: WorkHost[], image: string): Record<string, unknown> {
  const netns = hosts.length > 0 && hosts.every((h) => h.vars?.gr_netns);
  const parents = new Set(hosts.map((h) => dirname(h.dataDir.replace(/\/+$/, ''))));
  const named = hosts.every((h) => basename(h.dataDir.replace(/\/+$/, '')) === h.name);
  return { image, port: PORTS.scaphandre, vmRoot: netns && named && parents.size === 1 ? [...parents][0]! : false };
}

/** The JVM options the kafka role gives the broker (ansible/roles/kafka/defaults/main.yml). */
const KAFKA_JVM_OPTS = '-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true';

/** The cluster id every broker formats its storage with: derived from the experiment, as the kafka role does. */
export const kafkaClusterId = (experiment: string): string => `${createHash('md5').update(`${experiment}/kafka`).digest('hex').slice(0, 21)}A`;

/** The server.properties lines every broker shares (the kafka role's template, without the per-node lines). */
export function kafkaProperties(e: ServiceConfig, brokers: number): string {
  const k = e.kafka;
  const rf = Math.min(k.replication_factor, brokers);
  const isr = Math.min(k.min_insync_replicas, rf);
  return [
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `num.partitions=${k.partitions}`,
    `default.replication.factor=${k.replication_factor}`,
    `min.insync.replicas=${k.min_insync_replicas}`,
    `num.network.threads=${k.num_network_threads}`,
    `num.io.threads=${k.num_io_threads}`,
    `num.replica.fetchers=${k.num_replica_fetchers}`,
    'num.recovery.threads.per.data.dir=1',
    'socket.send.buffer.bytes=102400',
    'socket.receive.buffer.bytes=102400',
    'socket.request.max.bytes=104857600',
    `offsets.topic.replication.factor=${rf}`,
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${isr}`,
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${isr}`,
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=168',
    'log.segment.bytes=1073741824',
    'log.retention.check.interval.ms=300000',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

/** The JMX exporter's rules: the kafka role's own file (its Jinja is only in comments). */
export function jmxExporterConfig(port: number): string {
  return readFileSync(assetPath('ansible', 'roles', 'kafka', 'templates', 'jmx-exporter.yml.j2'), 'utf8')
    .replace('{{ ansible_managed }}', 'rendered by greenrace for Kubernetes (from ansible/roles/kafka/templates/jmx-exporter.yml.j2)')
    .replace(' on {{ inventory_hostname }}', '')
    .replace('{{ kafka_jmx_exporter_port }}', String(port));
}

/**
 * node-volumes.njk's variables: a broker's data on its node, `<node's data folder>/k8s-<service>`
 * (Kafka: log.dirs, KRaft metadata, config, logs), one PersistentVolume per broker host;
 * cluster-wide names, so the namespace is in them.
 */
export function brokerVolumes(service: 'kafka' | 'redpanda', brokers: readonly WorkHost[], namespace: string): Record<string, unknown> {
  return {
    storageClass: `greenrace-${service}-${namespace}`,
    volumes: brokers.map((h) => ({ name: dnsName(`greenrace-${service}-${namespace}-${h.name}`), node: h.name, path: `${h.dataDir.replace(/\/+$/, '')}/k8s-${service}` })),
    size: '10Gi',
  };
}

/**
 * kafka.yaml.njk's variables: one broker per broker host, in the broker hosts' order, each with a
 * PersistentVolume in its node's data folder.
 */
export function kafkaVars(e: ServiceConfig, hosts: WorkHost[], image: string, namespace: string): Record<string, unknown> {
  const brokers = hostsInRole({ hosts }, 'broker');
  const k = e.kafka;
  return {
    image,
    replicas: brokers.length,
    brokers: brokers.map((h) => h.address),
    controllers: Math.min(k.controllers, brokers.length),
    port: k.port,
    controllerPort: k.controller_port,
    jmxPort: k.jmx_exporter_port,
    heap: k.heap,
    jvmOpts: KAFKA_JVM_OPTS,
    clusterId: kafkaClusterId(e.name),
    properties: kafkaProperties(e, brokers.length),
    jmxConfig: jmxExporterConfig(k.jmx_exporter_port),
    ...brokerVolumes('kafka', brokers, namespace),
  };
}

/**
 * Prometheus' configuration: what the prometheus role renders from the same plan (global interval and
 * external labels, its own job, every scrape job with a `host` label per target, the run-process jobs
 * from their file_sd files). Remote write is not configured on the cluster.
 */
export function prometheusConfig(e: ServiceConfig, plan: Pick<ServicePlan, 'scrapeJobs'>, promHost: WorkHost): string {
  const ms = `${Math.round(e.monitoring.scrape_interval * 1000)}ms`;
  const names = plan.scrapeJobs.map((j) => j.job_name);
  const jobs: unknown[] = [];
  if (!names.includes('prometheus')) jobs.push({ job_name: 'prometheus', static_configs: [{ targets: [`${promHost.address}:${PORTS.prometheus}`] }] });
  for (const j of plan.scrapeJobs) {
    jobs.push({
      job_name: j.job_name,
      // As the prometheus role (prometheus_min_job_interval): Scaphandre re-reads its counters at most every 2 s.
      ...(j.job_name === 'scaphandre' && e.monitoring.scrape_interval < SCAPHANDRE_MIN_SCRAPE_SECONDS ? { scrape_interval: `${SCAPHANDRE_MIN_SCRAPE_SECONDS * 1000}ms` } : {}),
      metrics_path: j.metrics_path,
      honor_labels: j.honor_labels,
      static_configs: j.targets.map((t) => ({ targets: [t], ...(j.target_hosts[t] ? { labels: { host: j.target_hosts[t] } } : {}) })),
    });
  }
  for (const name of FILE_SD_JOBS) {
    if (!names.includes(name)) jobs.push({ job_name: name, file_sd_configs: [{ files: [fileSdPath(promHost, name)], refresh_interval: '5s' }] });
  }
  const labels = { experiment: e.name, deployment: e.name, ...e.monitoring.external_labels };
  return yaml.dump({ global: { scrape_interval: ms, scrape_timeout: ms, evaluation_interval: ms, external_labels: labels }, scrape_configs: jobs }, { lineWidth: -1, noRefs: true });
}

/** monitoring.yaml.njk's variables for the monitoring services among `services`. */
export function monitoringVars(e: ServiceConfig, plan: Pick<ServicePlan, 'scrapeJobs' | 'services'>, hosts: WorkHost[], image: string): Record<string, unknown> {
  const has = (s: ServiceName): boolean => plan.services.includes(s);
  const first = (s: ServiceName): WorkHost | undefined => {
    const h = serviceHosts(serviceDef(s), hosts)[0];
    return h && hosts.find((x) => x.name === h.name);
  };
  const pg = has('pushgateway') ? first('pushgateway') : undefined;
  const prom = has('prometheus') ? first('prometheus') : undefined;
  const config = prom ? prometheusConfig(e, plan, prom) : '';
  return {
    image,
    nodeExporter: has('node_exporter') ? { port: PORTS.node_exporter } : false,
    pushgateway: pg ? { node: pg.name, port: PORTS.pushgateway } : false,
    prometheus: prom
      ? {
          node: prom.name,
          port: PORTS.prometheus,
          config,
          // A changed configuration rolls the pod (Prometheus reads it at start).
          digest: createHash('sha256').update(config).digest('hex').slice(0, 16),
          fileSdDir: fileSdPath(prom, 'x').replace(/\/x\.json$/, ''),
          fileSdJobs: [...FILE_SD_JOBS],
          retention: e.monitoring.retention,
        }
      : false,
  };
}

/** The image a cluster with registry access would run Redpanda from (Redpanda's own, tag v<version>). */
export const redpandaImage = (version: string): string => `docker.redpanda.com/redpandadata/redpanda:v${version}`;

/**
 * redpanda.yaml.njk's variables: one broker per broker host, in their order (the seed servers), the
 * ports, Seastar's start flags and the first start's cluster properties as the redpanda role sets
 * them, each broker's data on its node.
 */
export function redpandaVars(e: ServiceConfig, hosts: WorkHost[], image: string, namespace: string): Record<string, unknown> {
  const brokers = hostsInRole({ hosts }, 'broker');
  const r = e.redpanda;
  return {
    image,
    replicas: brokers.length,
    brokers: brokers.map((h) => h.address),
    port: r.port,
    adminPort: r.admin_port,
    rpcPort: r.rpc_port,
    startFlags: [...(r.smp ? [`--smp=${r.smp}`] : []), ...(r.memory ? [`--memory=${r.memory}`] : [])],
    tune: r.tune,
    bootstrap: `write_caching_default: ${r.write_caching ? 'true' : 'false'}\n`,
    ...brokerVolumes('redpanda', brokers, namespace),
  };
}

/** The pods each service on the cluster should have ready (its selector's label value and count). */
export function expectedPods(plan: Pick<ServicePlan, 'services'>, hosts: WorkHost[]): Array<{ service: ServiceName; count: number }> {
  return plan.services.filter((s) => K8S_SERVICES.includes(s)).map((s) => ({ service: s, count: serviceHosts(serviceDef(s), hosts).length }));
}
