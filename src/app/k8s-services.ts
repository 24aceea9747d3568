/**
 * The services of `runtime: k3s` on the experiment's cluster (docs/k8s-workloads.md): `setup` applies
 * their objects (server-side apply, labelled `greenrace.io/run=services` and
 * `greenrace.io/service=<name>`) after the cluster is up and waits until their pods are ready, naming
 * what is not and why; a service no longer listed is deleted by its label; `killjob` deletes them all
 * before the cluster goes down.
 */
import { ConfigError, RunError } from '../core/errors.js';
import type { ServiceName, WorkHost } from '../core/types.js';
import { selector } from '../runtimes/k8s/manifests.js';
import { k8sExecutorFor, type K8sExecutor } from '../runtimes/k8s/executor.js';
import { expectedPods, kafkaVars, K8S_SERVICES, monitoringVars, notOnK8s, scaphandreVars } from '../services/k8s.js';
import type { ServiceConfig, ServicePlan } from '../services/registry.js';

/** The run label of the services' objects (one set per experiment). */
export const SERVICES_RUN = 'services';

/** A clear refusal for services that cannot run on the cluster (before anything is deployed). */
export function checkK8sServices(services: readonly ServiceName[], file: string | undefined): void {
  const bad = services.map((s) => [s, notOnK8s(s)] as const).filter(([, why]) => why);
  if (!bad.length) return;
  throw new ConfigError('config.service_not_on_k8s', `${file ?? 'the experiment'}: services: ${bad.map(([s, why]) => `${s} cannot run on runtime k3s yet: ${why}`).join('; ')}`, {
    ...(file ? { file } : {}),
    path: 'services',
    hint: `with runtime: k3s, services may be ${K8S_SERVICES.join(', ')}`,
  });
}

function imageOf(ex: K8sExecutor, name: string, stateDir: string): string {
  const ref = ex.images[name];
  if (!ref) throw new RunError('k8s.no_image', `the cluster has no ${name} image (${stateDir}/k8s/cluster.json)`, { hint: 'build the images with `setup/install.sh --k8s`, then run setup again' });
  return ref;
}

export interface K8sServicesOptions {
  stateDir: string;
  experiment: ServiceConfig;
  hosts: WorkHost[];
  plan: ServicePlan;
  /** Services an earlier setup deployed that are no longer listed. */
  dropped?: ServiceName[];
  progress?: (line: string) => void;
  signal?: AbortSignal;
  /** Readiness wait per service (default 300 s: images are pulled from the control host's registry on first use). */
  timeoutMs?: number;
}

/**
 * A Kafka StatefulSet deployed by an earlier greenrace kept its data in emptyDir volumes; a
 * StatefulSet's volume claims cannot be changed in place, so it is deleted (its brokers had nothing
 * a new pod could keep) before the one with a volume per node is applied.
 */
async function replaceEphemeralKafka(ex: K8sExecutor, progress: (line: string) => void): Promise<void> {
  const sts = await ex.kube.read<{ spec?: { volumeClaimTemplates?: unknown[] } }>('apps/v1', 'StatefulSet', ex.namespace, 'kafka');
  if (!sts || sts.spec?.volumeClaimTemplates?.length) return;
  progress('kafka: replacing the StatefulSet of an earlier setup (data in emptyDir) by one with its data on the nodes');
  await ex.kube.deleteByLabel(ex.namespace, selector({ 'greenrace.io/service': 'kafka', 'greenrace.io/run': SERVICES_RUN }));
}

/** Apply the services' objects and wait for their pods; returns the pods ready per service. */
export async function deployK8sServices(o: K8sServicesOptions): Promise<Record<string, string[]>> {
  const progress = o.progress ?? (() => {});
  const ex = k8sExecutorFor(o.stateDir, o.experiment.name);
  try {
    for (const s of o.dropped ?? []) {
      const gone = await ex.kube.deleteByLabel(ex.namespace, selector({ [`greenrace.io/service`]: s, 'greenrace.io/run': SERVICES_RUN }));
      if (gone.length) progress(`removed ${s} from the cluster (${gone.join(', ')})`);
    }
    const on = o.plan.services.filter((s) => K8S_SERVICES.includes(s));
    if (!on.length) return {};
    progress(`deploying on the cluster: ${on.join(', ')}`);
    if (on.includes('kafka')) {
      await replaceEphemeralKafka(ex, progress);
      await ex.applyTemplate('kafka.yaml.njk', kafkaVars(o.experiment, o.hosts, imageOf(ex, 'kafka', o.stateDir), ex.namespace), SERVICES_RUN);
    }
    if (on.includes('scaphandre')) await ex.applyTemplate('scaphandre.yaml.njk', scaphandreVars(o.hosts, imageOf(ex, 'scaphandre', o.stateDir)), SERVICES_RUN);
    if (on.some((s) => s !== 'kafka' && s !== 'scaphandre')) {
      await ex.applyTemplate('monitoring.yaml.njk', monitoringVars(o.experiment, o.plan, o.hosts, imageOf(ex, 'monitoring', o.stateDir), {
          image: o.plan.services.includes('prometheus') ? imageOf(ex, 'loadgen', o.stateDir) : '',
          namespace: ex.namespace,
        }),
        SERVICES_RUN,
      );
    }
    const ready: Record<string, string[]> = {};
    await Promise.all(
      expectedPods(o.plan, o.hosts).map(async ({ service, count }) => {
        const pods = await ex.kube.waitReady(ex.namespace, selector({ 'greenrace.io/service': service, 'greenrace.io/run': SERVICES_RUN }), count, {
          timeoutMs: o.timeoutMs ?? 300_000,
          what: `${service} on the cluster`,
          ...(o.signal ? { signal: o.signal } : {}),
        });
        ready[service] = pods.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}`);
        progress(`${service}: ${count} pod${count > 1 ? 's' : ''} ready (${ready[service]!.join(', ')})`);
      }),
    );
    return ready;
  } finally {
    await ex.close();
  }
}

/** Delete every service object of the experiment from its cluster (killjob, before the cluster goes). */
export async function deleteK8sServices(stateDir: string, experiment: string): Promise<string[]> {
  const ex = k8sExecutorFor(stateDir, experiment);
  try {
    return await ex.cleanup(SERVICES_RUN);
  } finally {
    await ex.close();
  }
}

/** Where a service runs on the cluster, as the API says: its workload and the nodes of its pods. */
export interface K8sPlacement {
  kind: 'DaemonSet' | 'StatefulSet' | 'Deployment';
  name: string;
  /** Pods the workload wants (DaemonSet: the nodes it should run on). */
  desired: number;
  ready: number;
  /** The nodes its pods are on (pods not scheduled yet left out). */
  nodes: string[];
}

/** One line for `status`: "DaemonSet on 4 nodes, 4/4 ready", "pod on control-1, ready". */
export function placementLine(p: K8sPlacement): string {
  const s = (n: number): string => (n === 1 ? '' : 's');
  const ready = `${p.ready}/${p.desired} ready`;
  if (p.kind === 'DaemonSet') return `DaemonSet on ${p.desired} node${s(p.desired)}, ${ready}`;
  if (p.kind === 'Deployment' && p.desired === 1) return p.nodes.length ? `pod on ${p.nodes[0]}, ${p.ready ? 'ready' : 'not ready'}` : 'pod not scheduled yet';
  return `${p.kind}, ${p.desired} pod${s(p.desired)}${p.nodes.length ? ` on ${p.nodes.join(', ')}` : ''}, ${ready}`;
}

/** The services' workloads on an experiment's cluster, by service (label greenrace.io/service). */
export async function k8sPlacements(stateDir: string, experiment: string): Promise<Record<string, K8sPlacement[]>> {
  const ex = k8sExecutorFor(stateDir, experiment);
  try {
    const labelSelector = selector({ 'greenrace.io/run': SERVICES_RUN });
    const namespace = ex.namespace;
    const { apps } = await ex.kube.raw();
    const [ds, sts, dep, pods] = await Promise.all([
      apps.listNamespacedDaemonSet({ namespace, labelSelector }),
      apps.listNamespacedStatefulSet({ namespace, labelSelector }),
      apps.listNamespacedDeployment({ namespace, labelSelector }),
      ex.kube.pods(namespace, labelSelector),
    ]);
    const nodesOf = (service: string): string[] =>
      [...new Set(pods.filter((p) => p.metadata?.labels?.['greenrace.io/service'] === service && !p.metadata?.deletionTimestamp).map((p) => p.spec?.nodeName ?? '').filter(Boolean))].sort();
    const out: Record<string, K8sPlacement[]> = {};
    const add = (labels: Record<string, string> | undefined, p: Omit<K8sPlacement, 'nodes'>): void => {
      const service = labels?.['greenrace.io/service'];
      if (service) (out[service] ??= []).push({ ...p, nodes: nodesOf(service) });
    };
    for (const d of ds.items) add(d.metadata?.labels, { kind: 'DaemonSet', name: d.metadata?.name ?? '', desired: d.status?.desiredNumberScheduled ?? 0, ready: d.status?.numberReady ?? 0 });
    for (const d of sts.items) add(d.metadata?.labels, { kind: 'StatefulSet', name: d.metadata?.name ?? '', desired: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 });
    for (const d of dep.items) add(d.metadata?.labels, { kind: 'Deployment', name: d.metadata?.name ?? '', desired: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 });
    return out;
  } finally {
    await ex.close();
  }
}
