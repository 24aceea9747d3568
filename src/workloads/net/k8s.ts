/**
 * `net` on Kubernetes (runtime k3s): the Arcaflow network workflows (seeds 000/001) as they run
 * there. A UUID per run (the run id); the tool's server in a pod on a node of the server role with a
 * Service in front of it; a client pod on a node of the client role kept off the server's node by a
 * required pod anti-affinity, checked again once both are scheduled and recorded (pods, nodes, pod
 * IPs); the client waits until the server answers, then measures (exec in the client pod); the
 * server, its Service and the client are deleted by the run's label whatever happens.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { InterruptedError, RunError, UsageError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import { hostOfNode, type K8sExecutor } from '../../runtimes/k8s/executor.js';
import { nodeFacts } from '../../runtimes/k8s/node-facts.js';

export { hostOfNode };
import { dnsName, selector } from '../../runtimes/k8s/manifests.js';
import type { RunContext } from '../contract.js';
import type { NetOutcome } from './run.js';
import { paramsOf } from './params.js';
import type { NetConfig } from './schema.js';
import { tool } from './tools/registry.js';
import type { NetParams, NetToolDef } from './tools/driver.js';
import type { NetResult } from './tools/types.js';

/** The shell lines the client runs first: wait (up to `seconds`) until the server accepts a TCP connection. */
export function waitForServer(address: string, port: number, seconds = 60): string {
  return [
    `i=0; until nc -z -w 1 ${shq(address)} ${port} 2>/dev/null; do`,
    `  i=$((i+1)); [ $i -ge ${seconds * 2} ] && { echo "the server ${address}:${port} did not answer within ${seconds} s" >&2; exit 111; }; sleep 0.5`,
    `done`,
    // The server drops the probe's connection (no test cookie): give it a moment to listen again.
    `sleep 1`,
  ].join('\n');
}

/** The tool's server argv in a pod, or the error saying why it cannot run on Kubernetes here. */
export function podServer(t: NetToolDef, p: NetParams): string[] {
  const pod = t.pod;
  if (!pod || 'unavailable' in pod || !t.driver) {
    throw new UsageError('net.k8s.tool_unavailable', `${t.name} cannot run on runtime k3s: ${pod && 'unavailable' in pod ? pod.unavailable : 'greenrace has no pod server command for it'}`);
  }
  return pod.server(p);
}

interface Pods {
  server: V1Pod;
  client: V1Pod;
  serverName: string;
  clientName: string;
}

/** Server pod + Service, then the client pod; both ready; the anti-affinity checked on the scheduled pods. */
async function deployPair(ctx: RunContext<NetConfig>, ex: K8sExecutor, t: NetToolDef, p: NetParams, runId: string): Promise<Pods> {
  const n = ctx.config;
  const sig = ctx.signal ? { signal: ctx.signal } : {};
  const short = runId.slice(0, 8);
  const serverName = dnsName(`${t.name}-server-${short}`);
  const clientName = dnsName(`${t.name}-client-${short}`);
  const hostNetwork = n.network === 'host';
  ctx.progress(`server pod ${serverName} + Service on a ${n.server_role} node (${n.network} network)`);
  await ex.applyTemplate('net-server.yaml.njk', { name: serverName, tool: t.name, image: ex.images.tools, role: n.server_role, hostNetwork, command: podServer(t, p), port: p.port, protocols: p.protocol === 'udp' ? ['TCP', 'UDP'] : ['TCP'] }, runId);
  const [server] = await ex.kube.waitReady(ex.namespace, selector({ 'greenrace.io/instance': serverName }), 1, { timeoutMs: 180_000, what: `${t.name} server pod`, ...sig });
  ctx.progress(`client pod ${clientName} on a ${n.client_role} node${n.allow_same_host ? '' : ` other than ${server!.spec?.nodeName}`}`);
  await ex.applyTemplate('net-client.yaml.njk', { name: clientName, tool: t.name, image: ex.images.tools, role: n.client_role, hostNetwork, serverName, sameNode: n.allow_same_host }, runId);
  const [client] = await ex.kube.waitReady(ex.namespace, selector({ 'greenrace.io/instance': clientName }), 1, { timeoutMs: 180_000, what: `${t.name} client pod`, ...sig });
  const sn = server!.spec?.nodeName;
  const cn = client!.spec?.nodeName;
  if (sn === cn && !n.allow_same_host) {
    throw new RunError('net.k8s.same_node', `the ${t.name} server and client pods were both scheduled on ${sn} despite the anti-affinity`, { hint: 'check the nodes of the server and client roles (greenrace.io/role labels)' });
  }
  return { server: server!, client: client!, serverName, clientName };
}

/** Setup's (or probed) facts of each host, plus its node as the API server knows it (kernel, OS, CPU, memory, labels). */
async function withNodeFacts(ex: K8sExecutor, facts: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  const nodes = new Map((await ex.kube.nodes()).map((n) => [n.metadata?.name, n]));
  return facts.map((f) => {
    const node = nodes.get(String(f.name));
    return node ? { ...f, kubernetes: nodeFacts(node) } : f;
  });
}

/** One measurement on Kubernetes: records, client output and runs.csv line like the host runtime's, plus pods and nodes. */
export async function runNetK8s(ctx: RunContext<NetConfig>, ex: K8sExecutor): Promise<NetOutcome> {
  const n = ctx.config;
  const t = tool(n.tool);
  const p = paramsOf(n, t);
  podServer(t, p);
  const run = ctx.startRun({ ...p, serverRole: n.server_role, clientRole: n.client_role, network: n.network, runtime: 'k3s', namespace: ex.namespace }, { label: t.name });
  const rec = run.record;
  let result: NetResult | undefined;
  let failure: unknown;
  try {
    const pods = await deployPair(ctx, ex, t, p, run.id);
    const server = hostOfNode(ctx.hosts, pods.server);
    const client = hostOfNode(ctx.hosts, pods.client);
    rec.parameters.server = server.name;
    rec.parameters.client = client.name;
    ctx.place(run, server, `${t.name} server (pod ${pods.serverName}, ${pods.server.status?.podIP})`);
    ctx.place(run, client, `${t.name} client (pod ${pods.clientName}, ${pods.client.status?.podIP})`);
    const target = n.network === 'pod' ? `${pods.serverName}.${ex.namespace}.svc` : pods.server.status!.podIP!;
    rec.results = {
      k8s: {
        namespace: ex.namespace,
        network: n.network,
        service: n.network === 'pod' ? pods.serverName : null,
        target,
        server: { pod: pods.serverName, node: server.name, podIP: pods.server.status?.podIP },
        client: { pod: pods.clientName, node: client.name, podIP: pods.client.status?.podIP },
        antiAffinity: !n.allow_same_host,
        differentNodes: server.name !== client.name,
      },
    };
    run.save();
    rec.hosts = await withNodeFacts(ex, await ctx.hostFacts(server.name === client.name ? [server] : [server, client]));
    if (n.pcp) await ctx.preflight([{ on: 'server', programs: [] }, { on: 'client', programs: [] }], (on) => (on === 'server' ? [server] : [client]), run, { pcp: true });
    ctx.progress(`run ${run.id}: ${t.name} ${client.name} → ${server.name} (${p.protocol}, ${p.duration} s, via ${target})`);
    const plan = { server, client, serverAddress: target, clientDir: '/tmp' };
    const limit = Math.ceil(p.duration + (p.omit ?? 0)) + 30;
    const cmd = `${waitForServer(target, p.port)}\nexec timeout -k 5 ${limit} ${t.driver!.clientCommand(p, plan)}`;
    // PCP (net.pcp) as on hosts: pmcd + pmlogger per used node, in pods on the node's network (the
    // executor's program pods), archives and pmrep reports copied into <run>/<node>/pcp/ (tar over exec).
    const pcpNodes = server.name === client.name ? [server] : [server, client];
    const out = await ctx.withPcp(run, pcpNodes, limit + 300, () =>
      ctx.withNetem(run, async () => {
        const start = Date.now() / 1000;
        const r = await ex.exec(pods.clientName, cmd, { timeoutMs: (limit + 75) * 1000, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        return { r, start, end: Date.now() / 1000 };
      }),
    );
    const where = `${t.name} ${client.name} → ${server.name}`;
    if (ctx.signal?.aborted) throw new InterruptedError(`${where}: interrupted`);
    if (out.r.error) throw new RunError('net.k8s.exec_failed', `${where}: ${out.r.error}`);
    const stdout = out.r.stdout.toString();
    const stderr = out.r.stderr.toString();
    writeFileSync(join(run.dir, 'client.out'), stdout);
    if (stderr) writeFileSync(join(run.dir, 'client.err'), stderr);
    rec.files = ['client.out', ...(rec.files ?? [])];
    if (out.r.code === 111) throw new RunError('net.k8s.server_unreachable', `${where}: ${stderr.trim()}`);
    if (out.r.code === 124 || out.r.timedOut) throw new RunError('net.client_timeout', `${where}: the client did not finish within ${limit} s`);
    try {
      result = t.driver!.parse(stdout, p, where);
    } catch (e) {
      if (e instanceof RunError && out.r.code !== 0 && stderr.trim()) throw new RunError(e.code, e.message, { details: stderr.trim().split('\n').slice(-10), cause: e });
      throw e;
    }
    await ctx.closeWindow(run, { start: out.start, end: out.end });
    rec.results = { ...result, ...rec.results };
    if (typeof result.extra.version === 'string') rec.versions = { [t.name]: result.extra.version };
  } catch (e) {
    failure = e;
  }
  // The server, its Service and the client go whatever happened.
  const deleted = await ex.cleanup(run.id).catch((e: Error) => [`cleanup failed: ${e.message}`]);
  rec.results = { ...(rec.results ?? {}), deleted };
  ctx.finishRun(run, failure);
  if (failure) throw failure;
  return { record: rec, dir: run.dir, ...(result ? { result } : {}) };
}
