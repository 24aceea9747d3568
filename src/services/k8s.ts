/**
 * The services of an experiment with `runtime: k3s`, as Kubernetes objects (templates/k8s/kafka.yaml.njk,
 * monitoring.yaml.njk): which services run on the cluster, and the templates' variables computed from
 * the same registry plan the Ansible roles get (ports, scrape jobs, endpoints). Pure: the use case
 * (app/k8s-services.ts) applies them.
 *
 * Every service runs on its node's network (hostNetwork): a service's address is its host's, so the
 * endpoints the registry computes (bootstrap servers, Prometheus and Pushgateway URLs), the scrape
 * targets' addresses and the run window push are the same as on hosts (Prometheus finds the targets
 * through the API: prometheusConfig), and the controller reaches the brokers directly (topics through the admin protocol) without a port-forward to keep alive.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import yaml from 'js-yaml';
import { assetPath } from '../core/paths.js';
import { hostsInRole, type ServiceName, type WorkHost } from '../core/types.js';
import { SCAPHANDRE_MIN_SCRAPE_SECONDS } from '../metrics/energy/scaphandre.js';
import { dnsName, LOADGEN_IMAGE_ENTRYPOINT, LOADGEN_IMAGE_NODE } from '../runtimes/k8s/manifests.js';
import { DISCOVERY_FILES } from '../runtimes/k8s/discovery/watch.js';
import { LOADGEN_SCRAPE_JOB, PORTS, serviceDef, serviceHosts, type ServiceConfig, type ServicePlan } from './registry.js';

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
    // kafka.properties after the fixed lines: the last occurrence of a key wins (java.util.Properties).
    ...Object.entries(k.properties)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${String(value)}`),
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

/** Where Prometheus' pod keeps the discovery sidecar's file_sd files (an emptyDir shared by both containers). */
export const DISCOVERY_DIR = '/var/lib/greenrace-sd';

const META = '__meta_kubernetes_';

/**
 * The relabelling a kubernetes_sd user writes for annotated pods: only pods annotated
 * `prometheus.io/scrape: "true"` and matching `keep` (a pod label: `greenrace.io/service=<s>` or the
 * generators' part), not init containers, not ended pods (a finished generator Job's pod leaves the
 * targets); address = the pod's IP and its `prometheus.io/port` annotation (`prometheus.io/path`
 * overrides the path); `host` = the pod's node (the inventory name, as on hosts) and `role` = that
 * node's greenrace.io/role label. Every pod uses its node's network, so the address is the node's
 * and `instance` reads `address:port` as the static targets did. A pod's other container ports give
 * the same target again, which Prometheus keeps once.
 */
function podRelabel(keep: { label: string; value: string }, extra: unknown[] = []): unknown[] {
  return [
    { source_labels: [`${META}pod_annotation_prometheus_io_scrape`], regex: 'true', action: 'keep' },
    { source_labels: [`${META}pod_label_${keep.label}`], regex: keep.value, action: 'keep' },
    { source_labels: [`${META}pod_container_init`], regex: 'false', action: 'keep' },
    { source_labels: [`${META}pod_phase`], regex: 'Succeeded|Failed', action: 'drop' },
    { source_labels: [`${META}pod_ip`, `${META}pod_annotation_prometheus_io_port`], regex: '([^:]+);([0-9]+)', replacement: '$1:$2', target_label: '__address__' },
    { source_labels: [`${META}pod_ip`, `${META}pod_annotation_prometheus_io_port`], regex: '(.*:.*);([0-9]+)', replacement: '[$1]:$2', target_label: '__address__' },
    { source_labels: [`${META}pod_annotation_prometheus_io_path`], regex: '(.+)', target_label: '__metrics_path__' },
    { source_labels: [`${META}pod_node_name`], target_label: 'host' },
    { source_labels: [`${META}node_label_greenrace_io_role`], regex: '(.+)', target_label: 'role' },
    ...extra,
  ];
}

/** The service whose pods a scrape job scrapes (their `greenrace.io/service` label): the job's name, except node-exporter's job `node`. */
export const serviceOfJob = (job: string): string => (job === 'node' ? 'node_exporter' : job);

/**
 * Prometheus' configuration on the cluster: the prometheus role's global settings and jobs, with the
 * targets discovered through the Kubernetes API instead of listed. Debian's Prometheus has no
 * kubernetes_sd, so the discovery sidecar (runtimes/k8s/discovery) writes what kubernetes_sd would
 * give (the same `__meta_kubernetes_*` labels) as file_sd files in DISCOVERY_DIR, and each job's
 * relabel_configs are those a kubernetes_sd user writes: node-exporter's job `node` over the nodes
 * (role node: every node is a target, so a node without its exporter shows down, as before), every
 * other service's job over its annotated pods, and the generators' job over the running generator
 * pods (`run_id`, `generator` from their annotations), so a run publishes nothing to Prometheus.
 * Every target carries `host` (its node's name) and `role` (its node's greenrace.io/role);
 * `instance` is `address:port` as with static targets, so the expected targets, the energy account
 * and `status` read the same. Remote write is not configured on the cluster.
 */
export function prometheusConfig(e: ServiceConfig, plan: Pick<ServicePlan, 'scrapeJobs'>): string {
  const ms = `${Math.round(e.monitoring.scrape_interval * 1000)}ms`;
  const names = plan.scrapeJobs.map((j) => j.job_name);
  const sd = (file: string): unknown[] => [{ files: [`${DISCOVERY_DIR}/${file}`], refresh_interval: '5s' }];
  const service = (s: string): { label: string; value: string } => ({ label: 'greenrace_io_service', value: s });
  const jobs: unknown[] = [];
  if (!names.includes('prometheus')) jobs.push({ job_name: 'prometheus', file_sd_configs: sd(DISCOVERY_FILES.pods), relabel_configs: podRelabel(service('prometheus')) });
  for (const j of plan.scrapeJobs) {
    if (j.job_name === 'node') {
      const port = PORTS.node_exporter;
      jobs.push({
        job_name: 'node',
        metrics_path: j.metrics_path,
        file_sd_configs: sd(DISCOVERY_FILES.nodes),
        relabel_configs: [
          { source_labels: [`${META}node_address_InternalIP`], regex: '([^:]+)', replacement: `$1:${port}`, target_label: '__address__' },
          { source_labels: [`${META}node_address_InternalIP`], regex: '(.*:.*)', replacement: `[$1]:${port}`, target_label: '__address__' },
          // kubernetes_sd's node role sets instance to the node's name; the static targets' instance was address:port.
          { source_labels: ['__address__'], target_label: 'instance' },
          { source_labels: [`${META}node_name`], target_label: 'host' },
          { source_labels: [`${META}node_label_greenrace_io_role`], regex: '(.+)', target_label: 'role' },
        ],
      });
      continue;
    }
    jobs.push({
      job_name: j.job_name,
      // As the prometheus role (prometheus_min_job_interval): Scaphandre re-reads its counters at most every 2 s.
      ...(j.job_name === 'scaphandre' && e.monitoring.scrape_interval < SCAPHANDRE_MIN_SCRAPE_SECONDS ? { scrape_interval: `${SCAPHANDRE_MIN_SCRAPE_SECONDS * 1000}ms` } : {}),
      metrics_path: j.metrics_path,
      honor_labels: j.honor_labels,
      file_sd_configs: sd(DISCOVERY_FILES.pods),
      relabel_configs: podRelabel(service(serviceOfJob(j.job_name))),
    });
  }
  if (!names.includes(LOADGEN_SCRAPE_JOB)) {
    jobs.push({
      job_name: LOADGEN_SCRAPE_JOB,
      file_sd_configs: sd(DISCOVERY_FILES.pods),
      relabel_configs: podRelabel({ label: 'greenrace_io_part', value: 'loadgen' }, [
        { source_labels: [`${META}pod_annotation_greenrace_io_run_id`], target_label: 'run_id' },
        { source_labels: [`${META}pod_annotation_greenrace_io_generator`], target_label: 'generator' },
      ]),
    });
  }
  const labels = { experiment: e.name, deployment: e.name, ...e.monitoring.external_labels };
  return yaml.dump({ global: { scrape_interval: ms, scrape_timeout: ms, evaluation_interval: ms, external_labels: labels }, scrape_configs: jobs }, { lineWidth: -1, noRefs: true });
}

/**
 * monitoring.yaml.njk's variables for the monitoring services among `services`. `discovery`: the
 * image the discovery sidecar runs from (the loadgen image: node + greenrace's build) and the
 * namespace whose pods it lists (the run's; its Role is namespaced there, reading nodes needs a
 * ClusterRole named after the namespace).
 */
export function monitoringVars(e: ServiceConfig, plan: Pick<ServicePlan, 'scrapeJobs' | 'services'>, hosts: WorkHost[], image: string, discovery: { image: string; namespace: string }): Record<string, unknown> {
  const has = (s: ServiceName): boolean => plan.services.includes(s);
  const first = (s: ServiceName): WorkHost | undefined => {
    const h = serviceHosts(serviceDef(s), hosts)[0];
    return h && hosts.find((x) => x.name === h.name);
  };
  const pg = has('pushgateway') ? first('pushgateway') : undefined;
  const prom = has('prometheus') ? first('prometheus') : undefined;
  const config = prom ? prometheusConfig(e, plan) : '';
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
          retention: e.monitoring.retention,
          discovery: {
            image: discovery.image,
            namespace: discovery.namespace,
            dir: DISCOVERY_DIR,
            node_bin: LOADGEN_IMAGE_NODE,
            entrypoint: LOADGEN_IMAGE_ENTRYPOINT,
            clusterRole: `greenrace-discovery-${discovery.namespace}`,
          },
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
