import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { checkK8sServices, placementLine } from '../../../src/app/k8s-services.js';
import { GreenraceError } from '../../../src/core/errors.js';
import type { WorkHost } from '../../../src/core/types.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import { fromTemplate } from '../../../src/runtimes/k8s/manifests.js';
import { nodeGroups, podGroups } from '../../../src/runtimes/k8s/discovery/labels.js';
import { DISCOVERY_DIR, expectedPods, kafkaClusterId, kafkaVars, monitoringVars, prometheusConfig, redpandaImage, redpandaVars, scaphandreVars } from '../../../src/services/k8s.js';
import { planServices } from '../../../src/services/registry.js';

const hosts: WorkHost[] = [
  { name: 'control-1', address: '10.1.0.11', port: 22, user: 'root', roles: ['control'], dataDir: '/tmp/gr/control-1' },
  { name: 'broker-1', address: '10.1.0.12', port: 22, user: 'root', roles: ['broker'], dataDir: '/tmp/gr/broker-1' },
  { name: 'broker-2', address: '10.1.0.13', port: 22, user: 'root', roles: ['broker'], dataDir: '/tmp/gr/broker-2' },
  { name: 'worker-1', address: '10.1.0.14', port: 22, user: 'root', roles: ['worker'], dataDir: '/tmp/gr/worker-1' },
];
const exp = experimentSchema.parse({
  name: 'k8s-svc',
  roles: { control: 1, broker: 2, worker: 1 },
  runtime: 'k3s',
  services: ['prometheus', 'node_exporter', 'pushgateway', 'kafka'],
  kafka: { replication_factor: 2, min_insync_replicas: 2, controllers: 3, partitions: 8 },
  monitoring: { scrape_interval: 1.5, external_labels: { site: 'lab' } },
});
const plan = planServices(exp, hosts);

describe('services on Kubernetes', () => {
  it("Prometheus' configuration: the registry's jobs over the discovery sidecar's files, relabelled as a kubernetes_sd user does", () => {
    const c = yaml.load(prometheusConfig(exp, plan)) as any;
    expect(c.global).toMatchObject({ scrape_interval: '1500ms', scrape_timeout: '1500ms', external_labels: { experiment: 'k8s-svc', deployment: 'k8s-svc', site: 'lab' } });
    const job = (n: string) => c.scrape_configs.find((j: any) => j.job_name === n);
    expect(c.scrape_configs.map((j: any) => j.job_name).sort()).toEqual(['greenrace_loadgen', 'kafka', 'node', 'prometheus', 'pushgateway']);
    for (const j of c.scrape_configs) {
      expect(j.static_configs).toBeUndefined();
      expect(j.file_sd_configs[0].files).toEqual([j.job_name === 'node' ? `${DISCOVERY_DIR}/nodes.json` : `${DISCOVERY_DIR}/pods.json`]);
    }
    expect(job('pushgateway').honor_labels).toBe(true);
    const keeps = (n: string) => job(n).relabel_configs.filter((r: any) => r.action === 'keep').map((r: any) => `${r.source_labels[0]}=${r.regex}`);
    expect(keeps('kafka')).toEqual(['__meta_kubernetes_pod_annotation_prometheus_io_scrape=true', '__meta_kubernetes_pod_label_greenrace_io_service=kafka', '__meta_kubernetes_pod_container_init=false']);
    expect(keeps('greenrace_loadgen')).toContain('__meta_kubernetes_pod_label_greenrace_io_part=loadgen');
    expect(job('greenrace_loadgen').relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Succeeded|Failed', action: 'drop' });
    expect(job('greenrace_loadgen').relabel_configs.map((r: any) => r.target_label)).toEqual(expect.arrayContaining(['run_id', 'generator', 'host', 'role', '__address__']));
  });

  it("the relabelling applied to the sidecar's groups gives the static targets' address, instance and host, plus role", () => {
    // Prometheus' relabel semantics (replace/keep/drop, regex anchored, $n), enough for these rules.
    const relabel = (rules: any[], labels: Record<string, string>): Record<string, string> | null => {
      const l = { ...labels };
      for (const r of rules) {
        const v = (r.source_labels ?? []).map((s: string) => l[s] ?? '').join(r.separator ?? ';');
        const m = new RegExp(`^(?:${r.regex ?? '(.*)'})$`).exec(v);
        if (r.action === 'keep' && !m) return null;
        if (r.action === 'drop' && m) return null;
        if ((r.action ?? 'replace') === 'replace' && m) {
          const out = (r.replacement ?? '$1').replace(/\$(\d)/g, (_: string, i: string) => m[Number(i)] ?? '');
          if (out === '') delete l[r.target_label];
          else l[r.target_label] = out;
        }
      }
      if (!('instance' in l)) l.instance = l.__address__!;
      // As Prometheus: the __meta_ labels are gone after relabelling.
      for (const k of Object.keys(l)) if (k.startsWith('__meta_')) delete l[k];
      return l;
    };
    const c = yaml.load(prometheusConfig(exp, plan)) as any;
    const job = (n: string) => c.scrape_configs.find((j: any) => j.job_name === n);
    const ctl = { metadata: { name: 'control-1', labels: { 'greenrace.io/role': 'control' } }, status: { addresses: [{ type: 'InternalIP', address: '10.1.0.11' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } } };
    const [ng] = nodeGroups(ctl);
    expect(relabel(job('node').relabel_configs, { __address__: ng!.targets[0]!, ...ng!.labels })).toMatchObject({ __address__: '10.1.0.11:9100', instance: '10.1.0.11:9100', host: 'control-1', role: 'control' });
    const pod = (service: Record<string, string>, port: number, phase = 'Running'): any => ({
      metadata: { name: 'p', namespace: 'ns', labels: service, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'greenrace.io/run-id': 'r1', 'greenrace.io/generator': 'worker-1-0' } },
      spec: { nodeName: 'control-1', hostNetwork: true, containers: [{ name: 'c', image: 'i', ports: [{ containerPort: port }, { containerPort: port + 1 }] }] },
      status: { podIP: '10.1.0.11', phase },
    });
    const targets = (j: string, p: any) => podGroups(p, ctl).map((g) => relabel(job(j).relabel_configs, { __address__: g.targets[0]!, ...g.labels })).filter((x) => x);
    const [pg] = targets('pushgateway', pod({ 'greenrace.io/service': 'pushgateway' }, 9091));
    expect(pg).toMatchObject({ __address__: '10.1.0.11:9091', instance: '10.1.0.11:9091', host: 'control-1', role: 'control' });
    // Another container port of the same pod relabels to the same target (Prometheus keeps it once).
    expect(new Set(targets('pushgateway', pod({ 'greenrace.io/service': 'pushgateway' }, 9091)).map((t) => JSON.stringify(t))).size).toBe(1);
    expect(targets('kafka', pod({ 'greenrace.io/service': 'pushgateway' }, 9091))).toEqual([]);
    const gen = pod({ 'greenrace.io/part': 'loadgen' }, 9400);
    expect(targets('greenrace_loadgen', gen)[0]).toMatchObject({ __address__: '10.1.0.11:9400', run_id: 'r1', generator: 'worker-1-0', host: 'control-1' });
    expect(targets('greenrace_loadgen', pod({ 'greenrace.io/part': 'loadgen' }, 9400, 'Succeeded'))).toEqual([]);
    const unannotated = { ...gen, metadata: { ...gen.metadata, annotations: {} } };
    expect(targets('greenrace_loadgen', unannotated)).toEqual([]);
  });

  it('Kafka: one broker per broker host in their order, the quorum capped at the broker count, internal topics within it', () => {
    const v = kafkaVars(exp, hosts, 'greenrace.local/kafka:x', 'greenrace') as any;
    expect(v.replicas).toBe(2);
    expect(v.brokers).toEqual(['10.1.0.12', '10.1.0.13']);
    expect(v.controllers).toBe(2);
    expect(v.clusterId).toBe(kafkaClusterId('k8s-svc'));
    expect(v.clusterId).toMatch(/^[0-9a-f]{21}A$/);
    expect(v.properties).toMatch(/^num\.partitions=8$/m);
    expect(v.properties).toMatch(/^offsets\.topic\.replication\.factor=2$/m);
    expect(v.jmxConfig).not.toMatch(/\{\{/);
    // kafka.properties after the fixed lines, as the role writes them: the last occurrence wins.
    const withProps = { ...exp, kafka: { ...exp.kafka, properties: { 'log.segment.bytes': 268435456, 'log.preallocate': true } } };
    const props = (kafkaVars(withProps, hosts, 'greenrace.local/kafka:x', 'greenrace') as any).properties as string;
    expect(props.lastIndexOf('log.segment.bytes=268435456')).toBeGreaterThan(props.indexOf('log.segment.bytes=1073741824'));
    expect(props).toMatch(/^log\.preallocate=true$/m);
    const objs = fromTemplate('kafka.yaml.njk', v, 'greenrace', { 'greenrace.io/run': 'services' });
    const sts = objs.find((o) => o.kind === 'StatefulSet') as any;
    expect(sts.spec.template.spec.nodeSelector).toEqual({ 'greenrace.io/role': 'broker' });
    expect(sts.spec.template.spec.hostNetwork).toBe(true);
    expect(objs.find((o) => o.kind === 'Service')!.spec).toMatchObject({ clusterIP: 'None' });
  });

  it("Kafka's data: one PersistentVolume per broker node in its data folder, claimed by the StatefulSet, labelled for cleanup", () => {
    const objs = fromTemplate('kafka.yaml.njk', kafkaVars(exp, hosts, 'greenrace.local/kafka:x', 'gr-ns'), 'gr-ns', { 'greenrace.io/run': 'services', 'app.kubernetes.io/managed-by': 'greenrace' }) as any[];
    const pvs = objs.filter((o) => o.kind === 'PersistentVolume');
    expect(pvs.map((p) => [p.metadata.name, p.spec.hostPath.path, p.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]])).toEqual([
      ['greenrace-kafka-gr-ns-broker-1', '/tmp/gr/broker-1/k8s-kafka', 'broker-1'],
      ['greenrace-kafka-gr-ns-broker-2', '/tmp/gr/broker-2/k8s-kafka', 'broker-2'],
    ]);
    for (const pv of pvs) {
      expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
      expect(pv.spec.storageClassName).toBe('greenrace-kafka-gr-ns');
      // Cluster-wide: no namespace, but the namespace's label (cleanup deletes by run label and namespace).
      expect(pv.metadata.namespace).toBeUndefined();
      expect(pv.metadata.labels).toMatchObject({ 'greenrace.io/run': 'services', 'greenrace.io/namespace': 'gr-ns' });
    }
    const sc = objs.find((o) => o.kind === 'StorageClass');
    expect(sc).toMatchObject({ metadata: { name: 'greenrace-kafka-gr-ns' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    const sts = objs.find((o) => o.kind === 'StatefulSet');
    expect(sts.spec.template.spec.volumes.map((v: any) => v.name)).toEqual(['config']);
    expect(sts.spec.volumeClaimTemplates[0]).toMatchObject({ metadata: { name: 'data', labels: { 'greenrace.io/service': 'kafka', 'greenrace.io/run': 'services', 'app.kubernetes.io/managed-by': 'greenrace' } }, spec: { storageClassName: 'greenrace-kafka-gr-ns' } });
  });

  it('monitoring: node-exporter on every node, Prometheus and the Pushgateway on the first control node', () => {
    const v = monitoringVars(exp, plan, hosts, 'greenrace.local/monitoring:x', { image: 'greenrace.local/loadgen:y', namespace: 'gr-ns' }) as any;
    expect(v.prometheus.node).toBe('control-1');
    expect(v.pushgateway.node).toBe('control-1');
    expect(expectedPods(plan, hosts)).toEqual(
      expect.arrayContaining([
        { service: 'node_exporter', count: 4 },
        { service: 'kafka', count: 2 },
        { service: 'prometheus', count: 1 },
        { service: 'pushgateway', count: 1 },
      ]),
    );
    const objs = fromTemplate('monitoring.yaml.njk', v, 'gr-ns', { 'greenrace.io/run': 'services' }) as any[];
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'DaemonSet/node-exporter',
      'Deployment/pushgateway',
      'ServiceAccount/prometheus',
      'Role/prometheus-discovery',
      'RoleBinding/prometheus-discovery',
      'ClusterRole/greenrace-discovery-gr-ns',
      'ClusterRoleBinding/greenrace-discovery-gr-ns',
      'ConfigMap/prometheus',
      'Deployment/prometheus',
    ]);
    // Read-only: pods in the namespace, nodes cluster-wide; cluster-wide objects carry the namespace label (deleted with the run).
    expect(objs.find((o) => o.kind === 'Role').rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    expect(objs.find((o) => o.kind === 'ClusterRole').rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]);
    expect(objs.find((o) => o.kind === 'ClusterRole').metadata.labels).toMatchObject({ 'greenrace.io/namespace': 'gr-ns' });
    const prom = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus').spec.template.spec;
    expect(prom.serviceAccountName).toBe('prometheus');
    const side = prom.containers.find((c: any) => c.name === 'discovery');
    expect(side.image).toBe('greenrace.local/loadgen:y');
    expect(side.command).toEqual(['/usr/local/bin/node', '/opt/greenrace/dist/entrypoint.js', 'k8s-discovery', '--namespace', 'gr-ns', '--dir', DISCOVERY_DIR]);
    expect(prom.volumes).toContainEqual({ name: 'discovery', emptyDir: {} });
    // Every scraped pod is annotated with its port.
    for (const [name, port] of [['node-exporter', '9100'], ['pushgateway', '9091'], ['prometheus', '9090']] as const) {
      const ann = objs.find((o) => o.metadata.name === name && o.kind !== 'ServiceAccount' && o.kind !== 'ConfigMap').spec.template.metadata.annotations;
      expect(ann, name).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': port });
    }
  });

  it('services without manifests are refused on runtime k3s, naming the file and why', () => {
    expect(() => checkK8sServices(['kafka', 'prometheus'], 'e.yaml')).not.toThrow();
    let err: unknown;
    try {
      checkK8sServices(['prometheus', 'scaphandre', 'redpanda'], 'experiments/e.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GreenraceError);
    expect((err as GreenraceError).code).toBe('config.service_not_on_k8s');
    expect((err as GreenraceError).message).toMatch(/experiments\/e\.yaml: services: redpanda cannot run on runtime k3s yet/);
    expect((err as GreenraceError).message).not.toMatch(/scaphandre/);
  });

  it("Scaphandre: a DaemonSet on the node's network; namespace hosts' own powercap trees mounted per node, as the role's --vm mode reads them", () => {
    const ns = hosts.map((h) => ({ ...h, dataDir: `/tmp/gr-st/hosts/${h.name}`, vars: { gr_netns: `gr-${h.name}` } }));
    const v = scaphandreVars(ns, 'greenrace.local/scaphandre:x') as any;
    expect(v).toEqual({ image: 'greenrace.local/scaphandre:x', port: 8080, vmRoot: '/tmp/gr-st/hosts' });
    const [ds] = fromTemplate('scaphandre.yaml.njk', v, 'greenrace', { 'greenrace.io/run': 'services' }) as any[];
    expect(ds.kind).toBe('DaemonSet');
    const spec = ds.spec.template.spec;
    expect(spec.hostNetwork).toBe(true);
    const c = spec.containers[0];
    expect(c.volumeMounts).toEqual([{ name: 'hosts', mountPath: '/var/greenrace/powercap', subPathExpr: '$(NODE_NAME)/powercap', readOnly: true }]);
    expect(spec.volumes).toEqual([{ name: 'hosts', hostPath: { path: '/tmp/gr-st/hosts', type: 'Directory' } }]);
    expect(c.readinessProbe).toEqual({ tcpSocket: { port: 8080 }, periodSeconds: 2 });
    expect(c.command.join('\n')).toMatch(/SCAPHANDRE_POWERCAP_PATH="\$GR_VM_POWERCAP"\n?\s*exec \/usr\/local\/bin\/scaphandre --vm prometheus --address "\$HOST_IP" --port "\$GR_PORT"/);
    // Real hosts (data folders not named as the nodes, or no namespaces): only the machine's sysfs.
    const plain = fromTemplate('scaphandre.yaml.njk', scaphandreVars(hosts, 'i') as any, 'greenrace', { 'greenrace.io/run': 'services' })[0] as any;
    expect(plain.spec.template.spec.volumes).toBeUndefined();
    expect(plain.spec.template.spec.containers[0].env.map((e: any) => e.name)).toEqual(['HOST_IP', 'NODE_NAME', 'GR_PORT']);
    // Prometheus scrapes it no more often than every 3 s (it re-reads its counters at most every 2 s).
    const withS = experimentSchema.parse({ ...exp, services: [...exp.services, 'scaphandre'] });
    const c2 = yaml.load(prometheusConfig(withS, planServices(withS, hosts))) as any;
    const sj = c2.scrape_configs.find((j: any) => j.job_name === 'scaphandre');
    expect(sj.scrape_interval).toBe('3000ms');
    expect(sj.relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_pod_label_greenrace_io_service'], regex: 'scaphandre', action: 'keep' });
    expect(ds.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' });
    expect(c2.scrape_configs.find((j: any) => j.job_name === 'node').scrape_interval).toBeUndefined();
  });

  it("status words a service's place on the cluster from its workload", () => {
    expect(placementLine({ kind: 'DaemonSet', name: 'node-exporter', desired: 4, ready: 3, nodes: ['a', 'b', 'c'] })).toBe('DaemonSet on 4 nodes, 3/4 ready');
    expect(placementLine({ kind: 'Deployment', name: 'prometheus', desired: 1, ready: 1, nodes: ['control-1'] })).toBe('pod on control-1, ready');
    expect(placementLine({ kind: 'Deployment', name: 'prometheus', desired: 1, ready: 0, nodes: [] })).toBe('pod not scheduled yet');
    expect(placementLine({ kind: 'StatefulSet', name: 'kafka', desired: 2, ready: 2, nodes: ['broker-1', 'broker-2'] })).toBe('StatefulSet, 2 pods on broker-1, broker-2, 2/2 ready');
  });

  it('Redpanda: a production-mode StatefulSet on the broker nodes, seeds in the broker hosts\' order, data on the nodes; refused on runtime k3s (no image here)', () => {
    const rp = experimentSchema.parse({ ...exp, services: ['redpanda'], kafka: {}, redpanda: { smp: 2, write_caching: true } });
    const v = redpandaVars(rp, hosts, redpandaImage('24.3.1'), 'greenrace') as any;
    expect(v).toMatchObject({ image: 'docker.redpanda.com/redpandadata/redpanda:v24.3.1', replicas: 2, brokers: ['10.1.0.12', '10.1.0.13'], port: 9092, adminPort: 9644, rpcPort: 33145, startFlags: ['--smp=2'], tune: true });
    expect(v.bootstrap).toBe('write_caching_default: true\n');
    const objs = fromTemplate('redpanda.yaml.njk', v, 'greenrace', { 'greenrace.io/run': 'services' }) as any[];
    expect(objs.map((o) => o.kind)).toEqual(['StorageClass', 'PersistentVolume', 'PersistentVolume', 'ConfigMap', 'Service', 'StatefulSet']);
    const start = objs.find((o) => o.kind === 'ConfigMap').data['start.sh'];
    expect(start).toMatch(/developer_mode: false/);
    expect(start).toMatch(/rpk redpanda mode production --config \$cfg/);
    expect(objs.find((o) => o.kind === 'Service').spec.clusterIP).toBe('None');
    const sts = objs.find((o) => o.kind === 'StatefulSet');
    expect(sts.spec.template.spec.nodeSelector).toEqual({ 'greenrace.io/role': 'broker' });
    expect(sts.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9644', 'prometheus.io/path': '/public_metrics' });
    expect(sts.spec.template.spec.initContainers[0]).toMatchObject({ command: ['rpk', 'redpanda', 'tune', 'all'], securityContext: { privileged: true } });
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe('greenrace-redpanda-greenrace');
    expect(objs.filter((o) => o.kind === 'PersistentVolume').map((o) => o.spec.hostPath.path)).toEqual(['/tmp/gr/broker-1/k8s-redpanda', '/tmp/gr/broker-2/k8s-redpanda']);
    let err: unknown;
    try {
      checkK8sServices(['prometheus', 'redpanda'], 'experiments/e.yaml');
    } catch (e) {
      err = e;
    }
    expect((err as GreenraceError).code).toBe('config.service_not_on_k8s');
    expect((err as GreenraceError).exitCode).toBe(2);
    expect((err as GreenraceError).message).toMatch(/experiments\/e\.yaml: services: redpanda cannot run on runtime k3s yet: its manifests \(templates\/k8s\/redpanda\.yaml\.njk\) need a Redpanda image, and no Redpanda binary or image can be had on this machine/);
  });
});
