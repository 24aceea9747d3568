import { describe, expect, it } from 'vitest';
import { fromTemplate, isNamespaced, parseManifests, prepare, renderTemplate, selector, dnsName, templateNames, NAMESPACE_LABEL, RUN_LABEL } from '../../../src/runtimes/k8s/manifests.js';
import { TEMPLATE_SAMPLES } from '../../support/k8s-templates.js';

const LABELS = { 'app.kubernetes.io/managed-by': 'greenrace', [RUN_LABEL]: 'run-1' };

describe('templates/k8s', () => {
  it('every template has sample variables (so the cluster test validates it) and renders to Kubernetes objects', () => {
    const names = templateNames();
    expect(names.length).toBeGreaterThanOrEqual(6);
    expect(Object.keys(TEMPLATE_SAMPLES).sort()).toEqual(names);
    for (const n of names) {
      const objs = fromTemplate(n, TEMPLATE_SAMPLES[n]!, 'greenrace', LABELS);
      expect(objs.length, n).toBeGreaterThan(0);
      for (const o of objs) {
        expect(o.metadata.labels?.[RUN_LABEL], `${n} ${o.kind}`).toBe('run-1');
        // Cluster-wide objects carry the namespace as a label instead (cleanup selects them by it).
        if (isNamespaced(o.kind)) expect(o.metadata.namespace, `${n} ${o.kind}`).toBe('greenrace');
        else if (o.kind !== 'Namespace') expect(o.metadata.labels?.[NAMESPACE_LABEL], `${n} ${o.kind}`).toBe('greenrace');
      }
    }
  });

  it('the iperf3 server is a pod and a Service on both protocols, on the server role; the client keeps off the server node', () => {
    const [pod, svc] = fromTemplate('net-server.yaml.njk', TEMPLATE_SAMPLES['net-server.yaml.njk']!, 'greenrace', LABELS) as any[];
    expect(pod.kind).toBe('Pod');
    expect(pod.spec.nodeSelector).toEqual({ 'greenrace.io/role': 'worker' });
    expect(pod.spec.hostNetwork).toBe(false);
    expect(pod.spec.containers[0].command).toEqual(['iperf3', '-s', '-p', '5201']);
    expect(svc.kind).toBe('Service');
    expect(svc.spec.selector).toEqual({ 'greenrace.io/instance': 'iperf3-server-1a2b3c' });
    expect(svc.spec.ports.map((p: any) => p.protocol)).toEqual(['TCP', 'UDP']);
    const [client] = fromTemplate('net-client.yaml.njk', TEMPLATE_SAMPLES['net-client.yaml.njk']!, 'greenrace', LABELS) as any[];
    const term = client.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(term.topologyKey).toBe('kubernetes.io/hostname');
    expect(term.labelSelector.matchLabels).toEqual({ 'greenrace.io/instance': 'iperf3-server-1a2b3c' });
    expect(client.spec.hostNetwork).toBe(true);
    expect(client.spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    const same = fromTemplate('net-client.yaml.njk', { ...TEMPLATE_SAMPLES['net-client.yaml.njk']!, sameNode: true }, 'greenrace', LABELS)[0] as any;
    expect(same.spec.affinity).toBeUndefined();
  });

  it('latency DaemonSets (netserver): one on the pod network and one on the host network, selecting their own pods by run', () => {
    const ds = fromTemplate('latency-daemonsets.yaml.njk', TEMPLATE_SAMPLES['latency-daemonsets.yaml.njk']!, 'greenrace', LABELS) as any[];
    expect(ds.map((d) => [d.metadata.name, d.spec.template.spec.hostNetwork])).toEqual([
      ['netperf-pod', false],
      ['netperf-host', true],
    ]);
    for (const d of ds) {
      // The selector must match the template's labels, the run label included (added by prepare).
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(d.spec.template.metadata.labels[k]).toBe(v);
      expect(d.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values).toEqual(['worker']);
    }
    const all = fromTemplate('latency-daemonsets.yaml.njk', { ...TEMPLATE_SAMPLES['latency-daemonsets.yaml.njk']!, roles: [], networks: ['pod'] }, 'greenrace', LABELS) as any[];
    expect(all).toHaveLength(1);
    expect(all[0].spec.template.spec.affinity).toBeUndefined();
  });

  it('a program pod keeps its command as one string argument, whatever its quotes', () => {
    const cmd = `sh -c 'echo "a b" $HOME' > x`;
    const [pod] = fromTemplate('program.yaml.njk', { ...TEMPLATE_SAMPLES['program.yaml.njk']!, command: cmd, port: 0 }, 'ns', LABELS) as any[];
    expect(pod.spec.containers[0].env.find((e: any) => e.name === 'GR_COMMAND').value).toBe(cmd);
    expect(pod.spec.containers[0].readinessProbe).toBeUndefined();
    expect(pod.spec.nodeName).toBe('worker-1');
    expect(renderTemplate('namespace.yaml.njk', { namespace: 'x' })).toContain('name: x');
  });
});

describe('manifests', () => {
  it('parses multi-document YAML, skipping empty documents, and names the file and document of a bad one', () => {
    expect(parseManifests('---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n', 'f.yaml').map((o) => o.kind)).toEqual(['Pod', 'Service']);
    expect(() => parseManifests('apiVersion: v1\nkind: Pod\nmetadata: {}\n', 'f.yaml')).toThrow('f.yaml: document 1 (Pod): metadata.name is required');
    expect(() => parseManifests('kind: Pod\nmetadata: {name: a}\n', 'f.yaml')).toThrow('f.yaml: document 1: apiVersion is required');
    expect(() => parseManifests('a: [1\n', 'f.yaml')).toThrow(/f\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('prepare puts namespaced objects in the run namespace, labels objects and pod templates, refuses another namespace', () => {
    const objs = parseManifests(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, labels: {app: x}}\nspec: {template: {metadata: {labels: {podrace: "true"}}}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n',
      'f.yaml',
    );
    const [d, ns] = prepare(objs, 'greenrace', LABELS, 'f.yaml') as any[];
    expect(d.metadata).toMatchObject({ namespace: 'greenrace', labels: { app: 'x', [RUN_LABEL]: 'run-1' } });
    expect(d.spec.template.metadata.labels).toEqual({ podrace: 'true', ...LABELS });
    expect(ns.metadata.namespace).toBeUndefined();
    expect(objs[0]!.metadata.namespace).toBeUndefined(); // the input is not changed
    expect(() => prepare(parseManifests('apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: kube-system}\n', 'f.yaml'), 'greenrace', LABELS, 'f.yaml')).toThrow('f.yaml: Pod a names namespace kube-system');
  });

  it('selectors and DNS names', () => {
    expect(selector({ a: 'b', 'c.io/d': 'e' })).toBe('a=b,c.io/d=e');
    expect(dnsName('Iperf3_Server--worker.1-')).toBe('iperf3-server--worker-1');
    expect(dnsName('x'.repeat(80))).toHaveLength(63);
    expect(dnsName('___')).toBe('x');
  });
});
