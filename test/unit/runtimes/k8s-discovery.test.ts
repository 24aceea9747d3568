import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { nodeGroups, podGroups, sanitizeLabelName } from '../../../src/runtimes/k8s/discovery/labels.js';
import { discoveryGroups, writeGroups } from '../../../src/runtimes/k8s/discovery/watch.js';

const node = (name: string, labels: Record<string, string> = {}): V1Node => ({
  metadata: { name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
  spec: { providerID: '' },
  status: {
    addresses: [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: '10.77.0.3' },
      { type: 'InternalIP', address: '10.77.0.99' },
    ],
    conditions: [{ type: 'Ready', status: 'True' }, { type: 'DiskPressure', status: 'False' }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
  },
});

const pod: V1Pod = {
  metadata: {
    name: 'pushgateway-7c9f',
    namespace: 'gr-exp',
    uid: 'u-1',
    labels: { 'greenrace.io/service': 'pushgateway', app: 'pg' },
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9091' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'pushgateway-7c9f', uid: 'r', controller: true }],
  },
  spec: {
    nodeName: 'control-1',
    containers: [
      { name: 'pushgateway', image: 'greenrace.local/monitoring:ab', ports: [{ name: 'http', containerPort: 9091, protocol: 'TCP' }] },
      { name: 'sidecar', image: 'greenrace.local/loadgen:cd' },
    ],
    initContainers: [{ name: 'init', image: 'greenrace.local/debian:ef' }],
  },
  status: {
    podIP: '10.77.0.2',
    hostIP: '10.77.0.2',
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'pushgateway', containerID: 'containerd://abc', image: '', imageID: '', ready: true, restartCount: 0 }],
  },
};

describe('k8s discovery: kubernetes_sd labels as file_sd groups', () => {
  it('sanitizes label names as Prometheus does', () => {
    expect(sanitizeLabelName('prometheus.io/scrape')).toBe('prometheus_io_scrape');
    expect(sanitizeLabelName('greenrace.io/role-x')).toBe('greenrace_io_role_x');
  });

  it('maps a pod to one group per container port, one per port-less container (init included)', () => {
    const groups = podGroups(pod, node('control-1', { 'greenrace.io/role': 'control' }));
    expect(groups.map((g) => g.targets)).toEqual([['10.77.0.2:9091'], ['10.77.0.2'], ['10.77.0.2']]);
    const [port, plain, init] = groups.map((g) => g.labels);
    expect(port).toMatchObject({
      __meta_kubernetes_namespace: 'gr-exp',
      __meta_kubernetes_pod_name: 'pushgateway-7c9f',
      __meta_kubernetes_pod_ip: '10.77.0.2',
      __meta_kubernetes_pod_host_ip: '10.77.0.2',
      __meta_kubernetes_pod_node_name: 'control-1',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_uid: 'u-1',
      __meta_kubernetes_pod_label_greenrace_io_service: 'pushgateway',
      __meta_kubernetes_pod_labelpresent_greenrace_io_service: 'true',
      __meta_kubernetes_pod_label_app: 'pg',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9091',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_controller_name: 'pushgateway-7c9f',
      __meta_kubernetes_pod_container_name: 'pushgateway',
      __meta_kubernetes_pod_container_id: 'containerd://abc',
      __meta_kubernetes_pod_container_image: 'greenrace.local/monitoring:ab',
      __meta_kubernetes_pod_container_init: 'false',
      __meta_kubernetes_pod_container_port_number: '9091',
      __meta_kubernetes_pod_container_port_name: 'http',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      // attach_metadata: {node: true}
      __meta_kubernetes_node_name: 'control-1',
      __meta_kubernetes_node_label_greenrace_io_role: 'control',
    });
    expect(plain).toMatchObject({ __meta_kubernetes_pod_container_name: 'sidecar', __meta_kubernetes_pod_container_id: '', __meta_kubernetes_pod_container_init: 'false' });
    expect(plain).not.toHaveProperty('__meta_kubernetes_pod_container_port_number');
    expect(init).toMatchObject({ __meta_kubernetes_pod_container_name: 'init', __meta_kubernetes_pod_container_init: 'true' });
    // Only kubernetes_sd's labels: nothing else (no __address__ among the labels, no instance).
    expect(Object.keys(port!).every((k) => k.startsWith('__meta_kubernetes_'))).toBe(true);
  });

  it('gives nothing for a pod without an IP, no node labels when its node is unknown, brackets for IPv6', () => {
    expect(podGroups({ ...pod, status: { ...pod.status, podIP: '' } })).toEqual([]);
    expect(podGroups(pod)[0]!.labels).not.toHaveProperty('__meta_kubernetes_node_name');
    expect(podGroups({ ...pod, status: { ...pod.status, podIP: 'fd00::2' } })[0]!.targets).toEqual(['[fd00::2]:9091']);
    expect(podGroups({ ...pod, status: { ...pod.status, conditions: [] } })[0]!.labels.__meta_kubernetes_pod_ready).toBe('unknown');
  });

  it('maps a node to its InternalIP and kubelet port, instance = its name, the first address of each type', () => {
    const [g, ...rest] = nodeGroups(node('worker-1', { 'greenrace.io/role': 'worker' }));
    expect(rest).toEqual([]);
    expect(g!.targets).toEqual(['10.77.0.3:10250']);
    expect(g!.labels).toEqual({
      instance: 'worker-1',
      __meta_kubernetes_node_name: 'worker-1',
      __meta_kubernetes_node_provider_id: '',
      __meta_kubernetes_node_label_greenrace_io_role: 'worker',
      __meta_kubernetes_node_labelpresent_greenrace_io_role: 'true',
      __meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl: '0',
      __meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl: 'true',
      __meta_kubernetes_node_address_InternalIP: '10.77.0.3',
      __meta_kubernetes_node_address_Hostname: 'worker-1',
      __meta_kubernetes_node_condition_ready: 'true',
      __meta_kubernetes_node_condition_diskpressure: 'false',
    });
    const hostOnly = node('h');
    hostOnly.status!.addresses = [{ type: 'Hostname', address: 'h.example' }];
    expect(nodeGroups(hostOnly)[0]!.targets).toEqual(['h.example:10250']);
    hostOnly.status!.addresses = [];
    expect(nodeGroups(hostOnly)).toEqual([]);
  });

  it('attaches each pod its own node', () => {
    const g = discoveryGroups([pod], [node('worker-1', { 'greenrace.io/role': 'worker' }), node('control-1', { 'greenrace.io/role': 'control' })]);
    expect(g.nodes.map((x) => x.labels.instance).sort()).toEqual(['control-1', 'worker-1']);
    expect(g.pods.map((x) => x.labels.__meta_kubernetes_node_label_greenrace_io_role)).toEqual(['control', 'control', 'control']);
  });
});

describe('k8s discovery: the file_sd file write', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('replaces the file by rename (never rewritten in place), leaves no temporary file, skips unchanged content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gr-disc-'));
    dirs.push(dir);
    const path = join(dir, 'pods.json');
    writeFileSync(path, '[]\n');
    const before = statSync(path).ino;
    const groups = podGroups(pod);
    expect(writeGroups(path, groups)).toBe(true);
    const after = statSync(path).ino;
    expect(after).not.toBe(before);
    const read = JSON.parse(readFileSync(path, 'utf8')) as Array<{ targets: string[]; labels: Record<string, string> }>;
    // Sorted by namespace/pod/container/target, so an unchanged cluster writes the same bytes.
    expect(read.map((g) => [g.labels.__meta_kubernetes_pod_container_name, g.targets[0]])).toEqual([
      ['init', '10.77.0.2'],
      ['pushgateway', '10.77.0.2:9091'],
      ['sidecar', '10.77.0.2'],
    ]);
    expect(read).toHaveLength(3);
    expect(readdirSync(dir)).toEqual(['pods.json']);
    // Same groups in another order: same file, not written again.
    expect(writeGroups(path, [...groups].reverse())).toBe(false);
    expect(statSync(path).ino).toBe(after);
    expect(writeGroups(path, [])).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([]);
  });
});
