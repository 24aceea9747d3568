/**
 * Services and the ingest workload on a real cluster (issue 15): `entrypoint setup` of an experiment
 * with `runtime: k3s` and services [prometheus, node-exporter, pushgateway, kafka] deploys them as
 * Kubernetes objects (Kafka KRaft StatefulSet + headless Service on the broker node, node-exporter
 * DaemonSet, Prometheus and Pushgateway on the control node); `entrypoint ingest` runs the generators
 * as Jobs on the worker nodes against the brokers and gets the hosts' record (achieved rate, latency
 * percentiles, phases, energy); killjob leaves nothing.
 * Scaphandre runs as a DaemonSet reading each node's own synthetic powercap tree (the scaphandre role's
 * --vm mode on namespace hosts; test/integration/energy-writer.mjs advances them at known watts), so
 * the ingest record's energy is Scaphandre's, measured, for the one physical machine, and checked
 * against the watts written. A second ingest runs the perf-test driver (Kafka's ProducerPerformance)
 * as a Job from the Kafka image.
 *
 * The cluster: 1 control + 1 broker + 2 workers on namespace hosts (needs root and the build of
 * `setup/install.sh --k8s`), brought up and down by one helper (k8sExperiment) so these cases can move
 * to a shared cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../support/cluster.js';
import { k8sExperiment, kubectl, type K8sExperiment } from './k8s-support.js';
import { cli } from './setup-support.js';

const EXP = 'k8swl-svc';
let x: K8sExperiment;
/** The synthetic RAPL machine: every node's tree at these watts (package + its dram domain). */
const PKG_W = 25;
const DRAM_W = 5;
let writer: ChildProcess | undefined;

/** Each node's own powercap tree (<state>/hosts/<node>/powercap), advanced at known watts from before setup. */
async function startWriter(stateDir: string): Promise<void> {
  const nodes = ['control-1', 'broker-1', 'worker-1', 'worker-2'];
  mkdirSync(stateDir, { recursive: true });
  const cfg = join(stateDir, '..', `${EXP}-energy-writer.json`);
  writeFileSync(cfg, JSON.stringify({ trees: nodes.map((n) => ({ dir: join(stateDir, 'hosts', n, 'powercap'), pkgLowW: PKG_W, pkgHighW: PKG_W, dramW: DRAM_W })) }));
  writer = spawn(process.execPath, [join(import.meta.dirname, 'energy-writer.mjs'), cfg], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    writer!.once('exit', (c) => reject(new Error(`energy writer exited (${c})`)));
    createInterface({ input: writer!.stdout! }).once('line', () => resolve());
  });
}

function stopWriter(): void {
  if (writer && writer.exitCode === null) writer.kill('SIGTERM');
  writer = undefined;
}

beforeAll(async () => {
  x = await k8sExperiment(
    EXP,
    [
      'roles: {control: 1, broker: 1, worker: 2}',
      'services: [prometheus, node_exporter, scaphandre, pushgateway, kafka]',
      'kafka: {replication_factor: 1, min_insync_replicas: 1, controllers: 1}',
      'monitoring: {scrape_interval: 2}',
      'ingest: {partitions: 4, acks: all}',
      '',
    ].join('\n'),
    { beforeSetup: startWriter },
  ).catch((e) => {
    stopWriter();
    throw e;
  });
}, 1_800_000);

afterAll(async () => {
  stopWriter();
  if (!x) return;
  await x.down();
  rmSync(x.home.dir, { recursive: true, force: true });
}, 900_000);

const k = (args: string[], o: { timeout?: number } = {}) => kubectl(x.kubeconfig, args, o);

/**
 * Energy with its source: Scaphandre's reading of the synthetic counters, measured, for the one
 * physical machine the four nodes are (not four times), ≈ the watts written × the window.
 */
function expectScaphandreEnergy(rec: any): void {
  expect(rec.energy.sources).toContain('scaphandre');
  expect(rec.energy.machines.map((m: any) => [m.source, m.kind, [...m.hosts].sort()])).toEqual([['scaphandre', 'measured', x.state().platform.hosts.map((h: any) => h.name).sort()]]);
  const truth = (PKG_W + DRAM_W) * (rec.window.end - rec.window.start);
  expect(Math.abs(rec.energy.totalJoules - truth) / truth, JSON.stringify({ got: rec.energy.totalJoules, truth })).toBeLessThan(0.1);
}

async function json(args: string[]): Promise<any> {
  const r = await k([...args, '-o', 'json']);
  expect(r.exitCode, r.all).toBe(0);
  return JSON.parse(r.stdout);
}

/** Prometheus' targets of a job, asked until they are all up (or 60 s passed). */
async function targetsOf(url: string, job: string): Promise<Array<{ health: string; labels: Record<string, string> }>> {
  let last: Array<{ health: string; labels: Record<string, string> }> = [];
  for (let i = 0; i < 30; i++) {
    const r = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string; labels: Record<string, string> }> } };
    last = r.data.activeTargets.filter((t) => t.labels.job === job);
    if (last.length && last.every((t) => t.health === 'up')) return last;
    await new Promise((res) => setTimeout(res, 2000));
  }
  return last;
}

describe('services and ingest on Kubernetes', () => {
  it('setup deploys the services as Kubernetes objects, on the nodes of their roles', async () => {
    const st = x.state();
    expect(st.phase).toBe('ready');
    expect([...st.services].sort()).toEqual(['kafka', 'node_exporter', 'prometheus', 'pushgateway', 'scaphandre']);
    const hosts: Array<{ name: string; address: string; roles: string[] }> = st.platform.hosts;
    const byRole = (r: string) => hosts.filter((h) => h.roles.includes(r));
    // Kafka: a StatefulSet with its headless Service, one broker on the broker node.
    const sts = await json(['-n', 'greenrace', 'get', 'statefulset', 'kafka']);
    expect(sts.status.readyReplicas).toBe(1);
    const svc = await json(['-n', 'greenrace', 'get', 'service', 'kafka']);
    expect(svc.spec.clusterIP).toBe('None');
    // Its data on the broker node's disk: a claim bound to the PersistentVolume in that node's data folder.
    const pvc = await json(['-n', 'greenrace', 'get', 'pvc', 'data-kafka-0']);
    expect(pvc.status.phase).toBe('Bound');
    const pv = await json(['get', 'pv', pvc.spec.volumeName]);
    const broker = byRole('broker')[0]!;
    expect(pv.spec.hostPath.path).toBe(join(st.platform.dataDirs[broker.name], 'k8s-kafka'));
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([broker.name]);
    const pods = await json(['-n', 'greenrace', 'get', 'pods', '-l', 'greenrace.io/run=services']);
    const nodesOf = (service: string) => pods.items.filter((p: any) => p.metadata.labels['greenrace.io/service'] === service).map((p: any) => p.spec.nodeName).sort();
    expect(nodesOf('kafka')).toEqual(byRole('broker').map((h) => h.name));
    expect(nodesOf('node_exporter')).toEqual(hosts.map((h) => h.name).sort());
    expect(nodesOf('scaphandre')).toEqual(hosts.map((h) => h.name).sort());
    // Each Scaphandre pod read its node's own tree (--vm), as the role does on namespace hosts.
    const scaph = pods.items.find((p: any) => p.metadata.labels['greenrace.io/service'] === 'scaphandre');
    const log = await k(['-n', 'greenrace', 'logs', scaph.metadata.name]);
    expect(log.stdout).toContain(`scaphandre on ${scaph.spec.nodeName}: --vm mode, the node's own powercap tree`);
    expect(nodesOf('prometheus')).toEqual([byRole('control')[0]!.name]);
    expect(nodesOf('pushgateway')).toEqual([byRole('control')[0]!.name]);
    for (const p of pods.items) expect(p.status.phase, p.metadata.name).toBe('Running');
    // Endpoints: the broker and control hosts' addresses, as on hosts (the services use their node's network).
    expect(st.endpoints.kafka_bootstrap_servers).toBe(byRole('broker').map((h) => `${h.address}:9092`).join(','));
    expect(st.endpoints.prometheus_url).toBe(`http://${byRole('control')[0]!.address}:9090`);
  });

  it('Prometheus scrapes every node-exporter, the Pushgateway and the broker', async () => {
    const url = x.state().endpoints.prometheus_url as string;
    const nodes = await targetsOf(url, 'node');
    expect(nodes.map((t) => t.health)).toEqual(x.state().platform.hosts.map(() => 'up'));
    expect(nodes.map((t) => t.labels.host).sort()).toEqual(x.state().platform.hosts.map((h: any) => h.name).sort());
    expect((await targetsOf(url, 'pushgateway')).map((t) => t.health)).toEqual(['up']);
    expect((await targetsOf(url, 'kafka')).map((t) => t.health)).toEqual(['up']);
    const scaph = await targetsOf(url, 'scaphandre');
    expect(scaph.map((t) => t.health)).toEqual(x.state().platform.hosts.map(() => 'up'));
    expect(scaph.map((t) => t.labels.host).sort()).toEqual(x.state().platform.hosts.map((h: any) => h.name).sort());
    // Found through the API (the discovery sidecar's kubernetes_sd labels, relabelled): each target
    // carries its node's greenrace.io/role as `role`, and instance is the node's address:port as before.
    const hosts: Array<{ name: string; address: string; roles: string[] }> = x.state().platform.hosts;
    const roleOf = (n: string) => hosts.find((h) => h.name === n)!.roles[0];
    for (const t of [...nodes, ...scaph]) expect(t.labels.role, t.labels.host).toBe(roleOf(t.labels.host!));
    expect(nodes.map((t) => t.labels.instance).sort()).toEqual(hosts.map((h) => `${h.address}:9100`).sort());
    const pg = (await targetsOf(url, 'pushgateway'))[0]!;
    expect(pg.labels).toMatchObject({ role: 'control', host: hosts.find((h) => h.roles.includes('control'))!.name });
    const r = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ discoveredLabels: Record<string, string>; labels: Record<string, string> }> } };
    const k = r.data.activeTargets.find((t) => t.labels.job === 'kafka')!;
    expect(k.discoveredLabels).toMatchObject({ __meta_kubernetes_namespace: 'greenrace', __meta_kubernetes_pod_label_greenrace_io_service: 'kafka', __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true' });
    expect(k.discoveredLabels.__meta_kubernetes_pod_name).toMatch(/^kafka-0$/);
    expect(k.discoveredLabels.__meta_filepath).toMatch(/pods\.json$/);
  }, 180_000);

  it('ingest at 2,000 msg/s runs its generators as Jobs on the workers and records the hosts\' figures', async () => {
    // Prometheus finds the generators' pods by their annotations while they run: watched beside the run.
    const url = x.state().endpoints.prometheus_url as string;
    const seen = new Map<string, Record<string, string>>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const t = (await (await fetch(`${url}/api/v1/targets`)).json().catch(() => null)) as { data: { activeTargets: Array<{ health: string; labels: Record<string, string> }> } } | null;
        for (const a of t?.data.activeTargets ?? []) if (a.labels.job === 'greenrace_loadgen' && a.health === 'up') seen.set(a.labels.instance!, a.labels);
        await new Promise((res) => setTimeout(res, 1000));
      }
    })();
    const r = await cli(x.home, ['ingest', EXP, '--load', '2000', '--instances', '2', '--duration', '20', '--warmup', '15', '--message_size', '512'], { timeout: 900_000 }).finally(() => (watching = false));
    await watch;
    expect(r.exitCode, r.all.slice(-4000)).toBe(0);
    expect(r.all).toMatch(/achieved rate/);
    const dir = join(x.home.dir, 'results', EXP);
    const ids = readdirSync(dir).filter((d) => !d.includes('.'));
    expect(ids.length).toBe(1);
    const rec = JSON.parse(readFileSync(join(dir, ids[0]!, 'run.json'), 'utf8'));
    expect(rec.status).toBe('completed');
    expectScaphandreEnergy(rec);
    const res = rec.results;
    // Acks in the window (the hosts' definition): a warm-up that fell behind on a loaded machine
    // catches up inside a short window and reads above the target; 15 s of warm-up absorbs it.
    const why = JSON.stringify({ achieved: res.achieved_rate, generators: res.generators?.map((g: any) => ({ id: g.id, achieved: g.achieved_rate, unsent: g.unsent, saturated: g.saturated })) });
    expect(res.achieved_rate, why).toBeGreaterThan(2000 * 0.95);
    expect(res.achieved_rate, why).toBeLessThan(2000 * 1.05);
    for (const q of ['p50', 'p95', 'p99', 'p999', 'max']) expect(res.latency_ms[q], q).toBeGreaterThan(0);
    expect(res.latency_ms.p50).toBeLessThanOrEqual(res.latency_ms.p95);
    expect(res.latency_ms.p95).toBeLessThanOrEqual(res.latency_ms.p99);
    expect(res.latency_ms.p99).toBeLessThanOrEqual(res.latency_ms.max);
    expect(rec.window.end - rec.window.start).toBeGreaterThan(19);
    expect(rec.phases).toBeTruthy();
    expect(res.energy_j).toBeGreaterThan(0);
    // The generators ran as pods on the worker nodes, one per instance, and their summaries came back.
    const workers = x.state().platform.hosts.filter((h: any) => h.roles.includes('worker')).map((h: any) => h.name);
    const placed = Object.values(res.k8s.generators as Record<string, string>).map((s) => s.split(' on ')[1]);
    expect(placed.length).toBe(2);
    for (const n of placed) expect(workers).toContain(n);
    expect(readdirSync(join(dir, ids[0]!, 'summaries')).length).toBe(2);
    // Nothing of the run is left on the cluster.
    const left = await json(['-n', 'greenrace', 'get', 'jobs,pods', '-l', `greenrace.io/run=${rec.id}`]);
    expect(left.items).toEqual([]);
    // Both generators were scraped (up) while they ran, found by discovery: their pod's node as
    // host, its role, the run and generator ids from the pod's annotations.
    expect([...seen.values()].map((l) => [l.run_id, l.generator, l.host, l.role]).sort()).toEqual(
      (rec.results.generators as Array<{ id: string }>).map((g) => [rec.id, g.id, res.k8s.generators[g.id].split(' on ')[1], 'worker']).sort(),
    );
    // …and left Prometheus' targets after (file_sd changes apply within seconds).
    let still: unknown[] = [];
    for (let i = 0; i < 15; i++) {
      const t = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ labels: Record<string, string> }> } };
      still = t.data.activeTargets.filter((a) => a.labels.job === 'greenrace_loadgen');
      if (!still.length) break;
      await new Promise((res) => setTimeout(res, 2000));
    }
    expect(still).toEqual([]);
  }, 1_200_000);

  it('the perf-test driver runs as a Job from the Kafka image and records its closed-loop figures and acks', async () => {
    const r = await cli(x.home, ['ingest', EXP, '--driver', 'perf-test', '--load', '500', '--instances', '1', '--duration', '10', '--warmup', '5', '--message_size', '512', '--acks', '1'], { timeout: 900_000 });
    expect(r.exitCode, r.all.slice(-4000)).toBe(0);
    const dir = join(x.home.dir, 'results', EXP);
    const id = readdirSync(dir)
      .filter((d) => !d.includes('.'))
      .map((d) => ({ d, rec: JSON.parse(readFileSync(join(dir, d, 'run.json'), 'utf8')) }))
      .find((o) => o.rec.parameters.driver === 'perf-test');
    expect(id).toBeTruthy();
    const rec = id!.rec;
    expect(rec.status).toBe('completed');
    expect(rec.parameters.acks).toBe('1');
    expectScaphandreEnergy(rec);
    const res = rec.results;
    expect(res.generators.map((g: any) => g.driver)).toEqual(['perf-test']);
    // ProducerPerformance measures from the send, closed-loop: labelled so, as on hosts.
    expect(res.latency_basis).toMatchObject({ loop: 'closed', from: 'send' });
    expect(res.messages_acked).toBeGreaterThan(0);
    expect(res.latency_ms.p99).toBeGreaterThan(0);
    // Its pod ran on a worker node, from the Kafka image (the image the brokers run).
    const workers = x.state().platform.hosts.filter((h: any) => h.roles.includes('worker')).map((h: any) => h.name);
    const placed = Object.values(res.k8s.generators as Record<string, string>);
    expect(placed.length).toBe(1);
    expect(workers).toContain(placed[0]!.split(' on ')[1]);
    expect(readdirSync(join(dir, id!.d, 'summaries')).length).toBe(1);
    expect((await json(['-n', 'greenrace', 'get', 'jobs,pods', '-l', `greenrace.io/run=${rec.id}`])).items).toEqual([]);
  }, 900_000);

  it('status says where each service runs, from the API', async () => {
    const r = await cli(x.home, ['status', EXP]);
    expect(r.exitCode, r.all.slice(-3000)).toBe(0);
    const n = x.state().platform.hosts.length;
    const control = x.state().platform.hosts.find((h: any) => h.roles.includes('control')).name;
    const broker = x.state().platform.hosts.find((h: any) => h.roles.includes('broker')).name;
    expect(r.all).toContain(`node_exporter: DaemonSet on ${n} nodes, ${n}/${n} ready`);
    expect(r.all).toContain(`prometheus: pod on ${control}, ready`);
    expect(r.all).toContain(`pushgateway: pod on ${control}, ready`);
    expect(r.all).toContain(`kafka: StatefulSet, 1 pod on ${broker}, 1/1 ready`);
  }, 180_000);

  it('a replaced broker pod keeps its log (its data is on the node)', async () => {
    const topics = (args: string[]) => k(['-n', 'greenrace', 'exec', 'kafka-0', '--', 'sh', '-c', `java -Xmx128m -cp '/opt/kafka/libs/*' org.apache.kafka.tools.TopicCommand --bootstrap-server $HOST_IP:9092 ${args.join(' ')} 2>&1`]);
    const made = await topics(['--create', '--topic', 'k8swl-kept', '--partitions', '1', '--replication-factor', '1']);
    expect(made.all).toMatch(/Created topic k8swl-kept/);
    const uid = (await json(['-n', 'greenrace', 'get', 'pod', 'kafka-0'])).metadata.uid;
    expect((await k(['-n', 'greenrace', 'delete', 'pod', 'kafka-0', '--wait=true'])).exitCode).toBe(0);
    const ready = await k(['-n', 'greenrace', 'wait', '--for=condition=Ready', 'pod/kafka-0', '--timeout=240s'], { timeout: 300_000 });
    expect(ready.exitCode, ready.all).toBe(0);
    expect((await json(['-n', 'greenrace', 'get', 'pod', 'kafka-0'])).metadata.uid).not.toBe(uid);
    expect((await topics(['--list'])).stdout.split('\n')).toContain('k8swl-kept');
  }, 420_000);

  it('killjob deletes the services and the cluster and leaves nothing', async () => {
    stopWriter();
    const tag = x.tag;
    const d = await x.down();
    expect(d.exitCode, d.all.slice(-3000)).toBe(0);
    // The discovery sidecar's ServiceAccount and RBAC went with the services (through the API), before the cluster.
    for (const o of ['ServiceAccount/prometheus', 'RoleBinding/prometheus-discovery', 'Role/prometheus-discovery', 'ClusterRoleBinding/greenrace-discovery-greenrace', 'ClusterRole/greenrace-discovery-greenrace'])
      expect(d.all).toMatch(new RegExp(`deleted from the cluster: .*${o}`));
    expect(d.leftovers).toEqual({ processes: [], mounts: [], cgroups: [], folders: [], logLinks: [] });
    expect(await leftovers(tag, x.stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
  }, 900_000);
});
