/**
 * The seeds' Kubernetes workflows on one real cluster (issue 15): every template of templates/k8s
 * validated by the API server (server-side dry-run), with sample variables and, for the services'
 * templates (Kafka, monitoring, Redpanda), with the variables setup computes; the Arcaflow iperf3 workflow (server pod +
 * Service, client pod on another node, recorded); uperf refused with its reason; the netperf matrix
 * between netserver pods (seed's CSV, node names); the Podrace StaticHttpBenchmark racefile with its
 * files collected per pod; a pod that cannot start named with its reason; nothing of a run left.
 *
 * The cluster: the run's shared one (k8s-shared.ts: 1 control + 3 workers on namespace hosts, brought
 * up by `entrypoint setup` with runtime k3s by the first k8s file, down at the end of the run; needs
 * root and the build of `setup/install.sh --k8s`). With GREENRACE_TEST_K8S_STATE=<state folder of a
 * set-up experiment with a cluster> the tests use that cluster instead and leave it up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workHosts } from '../../src/app/context.js';
import { runMatrix, runNet } from '../../src/app/net.js';
import { race } from '../../src/app/race.js';
import { readState } from '../../src/app/state.js';
import type { WorkHost } from '../../src/core/types.js';
import { k8sExecutorFor, type K8sExecutor } from '../../src/runtimes/k8s/executor.js';
import { fromTemplate, templateNames } from '../../src/runtimes/k8s/manifests.js';
import { TEMPLATE_SAMPLES } from '../support/k8s-templates.js';
import { experimentSchema } from '../../src/experiment/schema.js';
import { kafkaVars, monitoringVars, redpandaImage, redpandaVars } from '../../src/services/k8s.js';
import { planServices } from '../../src/services/registry.js';
import { releaseOwn, sharedCluster, type SharedCluster } from './k8s-shared.js';
import { REPO } from './setup-support.js';

let cluster: SharedCluster | undefined;
let stateDir = '';
let hosts: WorkHost[] = [];
let ex: K8sExecutor;
let prevHome: string | undefined;

beforeAll(async () => {
  cluster = await sharedCluster(import.meta.filename);
  stateDir = cluster.stateDir;
  // Runs write their records under GREENRACE_HOME; the experiment file is the state's own copy.
  prevHome = process.env.GREENRACE_HOME;
  process.env.GREENRACE_HOME = join(stateDir, '..', '..');
  hosts = workHosts(readState(stateDir) as never);
  ex = k8sExecutorFor(stateDir, cluster.exp, 'gr-k8swl-it');
}, 1_800_000);

afterAll(async () => {
  await ex?.close();
  if (prevHome === undefined) delete process.env.GREENRACE_HOME;
  else process.env.GREENRACE_HOME = prevHome;
  await releaseOwn(cluster);
}, 1_200_000);

const expName = (): string => cluster!.exp;

/** Objects of a run still in the namespace (by its label). */
async function leftOf(run: string): Promise<string[]> {
  const pods = await ex.kube.pods(ex.namespace, `greenrace.io/run=${run}`);
  return pods.map((p) => p.metadata!.name!);
}

describe('Kubernetes workloads on one cluster', () => {
  it('every template of templates/k8s is accepted by the API server (server-side dry-run)', async () => {
    for (const n of templateNames()) {
      const objs = fromTemplate(n, TEMPLATE_SAMPLES[n]!, ex.namespace, ex.labels('dry-run'));
      const out = await ex.apply(objs, { dryRun: true });
      expect(out.map((o) => `${o.kind}/${o.metadata.name}`), n).toEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`));
    }
    expect(await leftOf('dry-run')).toEqual([]);
  });

  it("the services' templates, with the variables setup computes for them, are accepted by the API server (server-side dry-run)", async () => {
    // The shared cluster has no broker node: its second node plays one here (nothing is created).
    const asBrokers = hosts.map((h, i) => (i === 1 ? { ...h, roles: ['broker' as const] } : h));
    const exp = experimentSchema.parse({ name: 'k8s-dry-run', roles: { control: 1, broker: 1, worker: hosts.length - 2 }, runtime: 'k3s', services: ['prometheus', 'node_exporter', 'pushgateway', 'kafka'] });
    const plan = planServices(exp, asBrokers);
    const rendered: Array<[string, Record<string, unknown>]> = [
      ['kafka.yaml.njk', kafkaVars(exp, asBrokers, 'greenrace.local/kafka:dry-run', ex.namespace)],
      ['monitoring.yaml.njk', monitoringVars(exp, plan, asBrokers, 'greenrace.local/monitoring:dry-run', { image: 'greenrace.local/loadgen:dry-run', namespace: ex.namespace })],
      ['redpanda.yaml.njk', redpandaVars(exp, asBrokers, redpandaImage(exp.redpanda.version), ex.namespace)],
    ];
    for (const [n, vars] of rendered) {
      const objs = fromTemplate(n, vars, ex.namespace, ex.labels('dry-run'));
      const out = await ex.apply(objs, { dryRun: true });
      expect(out.map((o) => `${o.kind}/${o.metadata.name}`), n).toEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`));
      // Defaults filled in by the server: the objects were really validated, not echoed.
      const sts = out.find((o) => o.kind === 'StatefulSet') as { spec?: { updateStrategy?: { type?: string } } } | undefined;
      if (sts) expect(sts.spec?.updateStrategy?.type, n).toBe('RollingUpdate');
    }
    expect(await leftOf('dry-run')).toEqual([]);
    expect((await ex.kube.raw().then((r) => r.core.listPersistentVolume({ labelSelector: 'greenrace.io/run=dry-run' }))).items).toEqual([]);
  });

  it('a pod that cannot start fails the wait at once, naming the pod and why', async () => {
    const objs = fromTemplate('toolbox.yaml.njk', { name: 'gr-bad-image', node: hosts.find((h) => h.roles.includes('worker'))!.name, image: 'greenrace.local/no-such-image:0', dataDir: '/tmp/gr-bad' }, ex.namespace, ex.labels('bad-image'));
    await ex.apply(objs);
    try {
      await expect(ex.kube.waitReady(ex.namespace, 'greenrace.io/run=bad-image', 1, { timeoutMs: 120_000, what: 'the bad pod' })).rejects.toThrow(/the bad pod: pod gr-bad-image will not become ready: container toolbox: (ErrImagePull|ImagePullBackOff)/);
    } finally {
      await ex.cleanup('bad-image');
    }
    expect(await leftOf('bad-image')).toEqual([]);
  });

  it('net --tool iperf3 --pcp: server pod + Service and a client pod on another node, a record with throughput, pods and nodes, PCP and metadata per node; all deleted', async () => {
    const out = await runNet({ exp: expName(), hosts, executor: ex, tool: 'iperf3', set: ['net.duration=3', 'net.server_role=worker', 'net.client_role=worker', 'net.pcp=true', 'net.pcp_interval=0.5'] });
    const rec = JSON.parse(readFileSync(join(out.dir, 'run.json'), 'utf8'));
    expect(rec.status).toBe('completed');
    expect(rec.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec.results.throughputBitsPerSecond).toBeGreaterThan(0);
    const k = rec.results.k8s;
    expect(k.network).toBe('pod');
    expect(k.target).toBe(`${k.service}.${ex.namespace}.svc`);
    expect(k.server.node).not.toBe(k.client.node);
    const workers = hosts.filter((h) => h.roles.includes('worker')).map((h) => h.name);
    expect(workers).toContain(k.server.node);
    expect(workers).toContain(k.client.node);
    expect(rec.placement.map((p: { host: string }) => p.host).sort()).toEqual([k.server.node, k.client.node].sort());
    expect(JSON.parse(readFileSync(join(out.dir, 'client.out'), 'utf8')).start.connecting_to.host).toBe(k.target);
    expect(rec.results.deleted).toEqual(expect.arrayContaining([`Service/${k.service}`, `Pod/${k.server.pod}`, `Pod/${k.client.pod}`]));
    expect(await leftOf(rec.id)).toEqual([]);

    // PCP per used node, as on hosts: the same files and record fields, named by node.
    expect(rec.results.pcpErrors).toBeUndefined();
    expect(Object.keys(rec.results.pcp).sort()).toEqual([k.server.node, k.client.node].sort());
    for (const node of [k.server.node, k.client.node]) {
      expect(readdirSync(join(out.dir, node, 'pcp'))).toEqual(expect.arrayContaining([`${node}.0`, `${node}.index`, `${node}.meta`, 'rates.csv', 'counters.csv']));
      expect(rec.files).toEqual(expect.arrayContaining([`${node}/pcp/${node}.meta`, `${node}/pcp/counters.csv`]));
      // The archive's own label names the node (pmlogger -H), read by PCP's pmdumplog on this machine.
      expect(execFileSync('pmdumplog', ['-l', join(out.dir, node, 'pcp', node)], { encoding: 'utf8' })).toMatch(new RegExp(`from host ${node}\\b`));
      const s = rec.results.pcp[node];
      // The recording covers the run's window (its first and last samples, to the microsecond).
      expect(s.start).toBeLessThanOrEqual(rec.window.start);
      expect(s.end).toBeGreaterThanOrEqual(rec.window.end);
      expect(s.cpuPercent.busy.mean).toBeGreaterThan(0);
      expect(s.memory.physicalKiB).toBeGreaterThan(0);
      expect(s.network.eth0).toBeDefined();
    }
    // The node's own interfaces (host network view), not the pod's: iperf3's bytes leave the client
    // node's eth0 and enter the server node's eth0, and not the other way round.
    // Every byte the iperf3 server received (its own count) left the client node's eth0 and entered
    // the server node's, plus headers and the nodes' other traffic (small: the cluster's own chatter).
    // (iperf3's sender count can be a little higher: bytes still in the socket when the test stops.)
    const iperf = JSON.parse(readFileSync(join(out.dir, 'client.out'), 'utf8')).end;
    const sent = iperf.sum_sent.bytes as number;
    const received = iperf.sum_received.bytes as number;
    const c = rec.results.pcp[k.client.node].network.eth0;
    const sv = rec.results.pcp[k.server.node].network.eth0;
    expect(c.outBytes).toBeGreaterThanOrEqual(received);
    expect(c.outBytes).toBeLessThan(1.2 * sent);
    expect(sv.inBytes).toBeGreaterThanOrEqual(received);
    expect(sv.inBytes).toBeLessThan(1.2 * sent);
    expect(c.inBytes).toBeLessThan(0.2 * sent);
    // The busiest half second into the server node runs at least at iperf3's mean rate (less 10 %:
    // the edges of the transfer): a rate over whole seconds would halve it at this 0.5 s interval.
    expect(sv.inPeakBytesPerSecond).toBeGreaterThanOrEqual((0.9 * received) / iperf.sum_received.seconds);
    // Node metadata per node from the API server: kernel, CPU, memory, labels.
    for (const h of rec.hosts) {
      expect(h.kubernetes.name).toBe(h.name);
      expect(h.kubernetes.kernel).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
      expect(h.kubernetes.cpus).toBeGreaterThan(0);
      expect(h.kubernetes.memoryBytes).toBeGreaterThan(0);
      expect(h.kubernetes.labels['greenrace.io/role']).toBe('worker');
    }
    // The PCP pods are gone, and the nodes' copies of the archives are removed once collected.
    expect((await ex.kube.pods(ex.namespace, 'greenrace.io/part=program')).filter((p) => /^(pmcd|pmlogger)-/.test(p.metadata!.name!) && !p.metadata!.deletionTimestamp)).toEqual([]);
    for (const node of [k.server.node, k.client.node]) {
      const h = hosts.find((x) => x.name === node)!;
      expect(existsSync(join(h.dataDir, 'pcp', rec.id))).toBe(false);
    }
  });

  it('net --tool uperf is refused with its reason before anything is applied', async () => {
    await expect(runNet({ exp: expName(), hosts, executor: ex, tool: 'uperf' })).rejects.toThrow(/uperf cannot run on runtime k3s: no uperf binary can be had/);
  });

  it('net --matrix (netperf, pod network): every ordered pair of nodes, the seed CSV header, node names; the DaemonSet deleted', async () => {
    const recs = await runMatrix({ exp: expName(), hosts, executor: ex, set: ['net.matrix.tool=netperf', 'net.matrix.duration=1', 'net.matrix.push=false'] });
    const rec = recs[0]!;
    expect(rec.status).toBe('completed');
    const csv = readFileSync(join(process.env.GREENRACE_HOME!, 'results', expName(), rec.id, 'latency.csv'), 'utf8').trim().split('\n');
    // The seed's five columns first (the CSV adds the tool and what its latency times after them).
    expect(csv[0]!.split(',').slice(0, 5).join(',')).toBe('origin,destination,netperf_p50_latency_microseconds,netperf_p90_latency_microseconds,netperf_p99_latency_microseconds');
    const names = hosts.map((h) => h.name);
    expect(csv).toHaveLength(1 + names.length * (names.length - 1));
    for (const line of csv.slice(1)) {
      const [o, d, p50, p90, p99] = line.split(',');
      expect(names).toContain(o);
      expect(names).toContain(d);
      expect(o).not.toBe(d);
      expect(Number(p50)).toBeGreaterThan(0);
      expect(Number(p90)).toBeGreaterThanOrEqual(Number(p50));
      expect(Number(p99)).toBeGreaterThanOrEqual(Number(p90));
    }
    const k = (rec.results as { k8s: { network: string; pods: Record<string, { ip: string }>; deleted: string[] } }).k8s;
    expect(k.network).toBe('pod');
    expect(Object.keys(k.pods).sort()).toEqual([...names].sort());
    for (const p of Object.values(k.pods)) expect(p.ip).toMatch(/^10\.244\./);
    expect(k.deleted).toContain('DaemonSet/netperf-pod');
    expect(await leftOf(rec.id)).toEqual([]);
  });

  it("the seed's StaticHttpBenchmark racefile: wrk in each client pod, client.wrk.log collected per pod and parsed, configs deleted", async () => {
    const out = await race({ exp: expName(), hosts, executor: ex, racefile: join(REPO, 'racefiles', 'static-http-k8s.yaml.njk'), params: ['duration=2s', 'warmup=1s'] });
    const rec = out.record;
    expect(rec.status).toBe('completed');
    const res = rec.results as { k8s: { pods: Array<{ pod: string; role: string; node: string }> }; collected: Array<{ host: string; path: string }>; parsed: Record<string, { throughputOpsPerSecond: number }> };
    const clients = res.k8s.pods.filter((p) => p.role === 'client');
    const server = res.k8s.pods.find((p) => p.role === 'server')!;
    expect(clients).toHaveLength(2);
    for (const c of clients) expect(c.node).not.toBe(server.node);
    expect(res.collected.map((c) => c.path).sort()).toEqual(clients.map((c) => `${c.pod}/client.wrk.log`).sort());
    for (const c of clients) {
      expect(readFileSync(join(out.dir, c.pod, 'client.wrk.log'), 'utf8')).toMatch(/Requests\/sec:/);
      expect(res.parsed[`${c.pod}/client.wrk.log`]!.throughputOpsPerSecond).toBeGreaterThan(0);
    }
    expect(await leftOf(rec.id)).toEqual([]);
  });
});
