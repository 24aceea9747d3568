/**
 * A real Kubernetes 1.34 from upstream parts (ansible/roles/k8s) on 4 namespace hosts: 1 control +
 * 3 workers, brought up by `entrypoint setup` (runtime: k3s; the cluster's plays run inside setup.yml).
 * The cluster is the run's shared one (k8s-shared.ts: brought up by the first k8s file; this file runs
 * last of them and brings it down). What a user checks: setup's exit code, `status` and `entrypoint kubectl`,
 * every node Ready with its role label, a pod on every node, pods reaching each other across hosts,
 * a Service reached by its DNS name from another node, `kubectl logs` and `kubectl exec`, the shell's
 * `k()` and `kube`, a second setup and deploy that change nothing, and a destroy + killjob that leave
 * nothing (namespace, link, process, mount, cgroup, folder); a second killjob is harmless.
 * Needs root and the build of `setup/install.sh --k8s`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sshArgs } from '../support/cluster.js';
import { markReleased, releaseOwn, sharedCluster, type SharedCluster } from './k8s-shared.js';
import { changedPerHost, clusterPlaybook, k8sInstall, k8sLeftovers, kubectl, type K8sInstall } from './k8s-support.js';
import { cli, type Home } from './setup-support.js';

/** A cluster given by GREENRACE_TEST_K8S_STATE is someone else's: it is not brought down here. */
const external = Boolean(process.env.GREENRACE_TEST_K8S_STATE);
let cluster: SharedCluster;
let EXP = '';
const NS = 'k8s-it';
let home: Home;
let install: K8sInstall;
let stateDir = '';
let kubeconfig = '';
let tag = '';
let hosts: Array<{ name: string; address: string; roles: string[] }> = [];
let shimSockets: string[] = [];
const forwardingBefore = new Map<string, string>();

const k = (args: string[], input?: string) => kubectl(kubeconfig, args, input === undefined ? {} : { input });

async function ssh(host: string, command: string): Promise<string> {
  const st = home.state(EXP);
  const h = hosts.find((x) => x.name === host)!;
  const r = await execa('ssh', [...sshArgs(st.platform.data, h.address), command], { reject: false, timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`ssh ${host} ${command}: ${r.stderr}`);
  return r.stdout;
}

/** Pods of the test namespace with a label, by node. */
async function podsByNode(selector: string): Promise<Map<string, { name: string; ip: string }>> {
  const r = await k(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'json']);
  expect(r.exitCode, r.all).toBe(0);
  const out = new Map<string, { name: string; ip: string }>();
  for (const p of JSON.parse(r.stdout).items) out.set(p.spec.nodeName, { name: p.metadata.name, ip: p.status.podIP });
  return out;
}

const manifests = (tools: string): string => `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
# One web server on every node, the control host included; each answers with its node's name.
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
      containers:
        - name: web
          image: ${tools}
          command: [sh, -c, 'echo "$NODE_NAME" > /var/www/html/index.html && exec nginx -g "daemon off;"']
          env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
          ports: [{containerPort: 80}]
          readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2}
---
# The Service's backend runs on worker-2 only.
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      nodeSelector: {kubernetes.io/hostname: worker-2}
      containers:
        - name: echo
          image: ${tools}
          command: [sh, -c, 'echo "echo on $NODE_NAME" > /var/www/html/index.html && exec nginx -g "daemon off;"']
          env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
          ports: [{containerPort: 80}]
          readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: ${NS}}
spec:
  selector: {app: echo}
  ports: [{port: 8080, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: hello, namespace: ${NS}}
spec:
  nodeSelector: {kubernetes.io/hostname: worker-1}
  containers:
    - name: hello
      image: ${tools}
      command: [sh, -c, 'echo "greenrace log line from $NODE_NAME"; exec sleep infinity']
      env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
`;

beforeAll(async () => {
  cluster = await sharedCluster(import.meta.filename);
  install = k8sInstall();
  home = cluster.home;
  EXP = cluster.exp;
  stateDir = cluster.stateDir;
  kubeconfig = cluster.kubeconfig;
  tag = cluster.tag;
  hosts = cluster.hosts;
  // ip_forward as each host had it before the cluster, as the role recorded it (destroy restores it).
  for (const h of hosts) forwardingBefore.set(h.name, readFileSync(join(stateDir, 'hosts', h.name, 'k8s', 'ip_forward.before'), 'utf8').trim());
}, 1_800_000);

// Only when this file brought the cluster up without the global setup (and a test failed before the
// last one brought it down); otherwise the global setup's teardown does.
afterAll(() => releaseOwn(cluster), 900_000);

describe('Kubernetes from upstream parts on 4 namespace hosts', () => {
  it('entrypoint setup brought the cluster up (exit 0)', () => {
    expect(cluster.setup.exitCode, `setup (in ${cluster.createdBy}):\n${cluster.setup.tail}`).toBe(0);
  });

  it('has 4 Ready nodes with their role label, the built kubelet version and their own pod CIDR; the control host is tainted', async () => {
    const r = await k(['get', 'nodes', '-o', 'json']);
    expect(r.exitCode, r.all).toBe(0);
    const nodes = JSON.parse(r.stdout).items as any[];
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['control-1', 'worker-1', 'worker-2', 'worker-3']);
    for (const n of nodes) {
      const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
      expect(ready.status, `${n.metadata.name}: ${ready.message}`).toBe('True');
      expect(n.metadata.labels['greenrace.io/role']).toBe(n.metadata.name === 'control-1' ? 'control' : 'worker');
      expect(n.status.nodeInfo.kubeletVersion).toBe(install.kubernetes_version);
      expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
      const address = hosts.find((h) => h.name === n.metadata.name)!.address;
      expect(n.status.addresses).toContainEqual({ type: 'InternalIP', address });
      // The pod CIDR is the one the role routes: 10.244.<last octet of the host address>.0/24.
      expect(n.spec.podCIDR).toBe(`10.244.${address.split('.')[3]}.0/24`);
    }
    const control = nodes.find((n) => n.metadata.name === 'control-1');
    expect(control.spec.taints).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
    // The kubeconfig reaches the API server at the control host's address, with a client certificate.
    const kc = readFileSync(kubeconfig, 'utf8');
    expect(kc).toContain(`server: https://${hosts.find((h) => h.name === 'control-1')!.address}:6443`);
    expect(kc).toContain('client-certificate-data:');
    // Never anonymous: the API refuses a request without credentials.
    const anon = await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://${hosts[0]!.address}:6443/api`], { reject: false });
    expect(anon.stdout).toBe('401');
  });

  it('status shows every node Ready with its role, kubelet version and pod CIDR, CoreDNS ready, the kubeconfig', async () => {
    const r = await cli(home, ['status', EXP, '--json', '--no-check']);
    expect(r.exitCode, r.all).toBe(0);
    const cluster = JSON.parse(r.stdout).sections.kubernetes;
    expect(cluster.kubeconfig).toBe(kubeconfig);
    expect(cluster.distribution).toBe('upstream');
    expect(cluster.coredns).toEqual({ ready: 1, wanted: 1 });
    expect(cluster.nodes.map((n: any) => [n.name, n.ready, n.role, n.kubelet])).toEqual([
      ['control-1', true, 'control', install.kubernetes_version],
      ['worker-1', true, 'worker', install.kubernetes_version],
      ['worker-2', true, 'worker', install.kubernetes_version],
      ['worker-3', true, 'worker', install.kubernetes_version],
    ]);
    expect(JSON.parse(r.stdout).endpoints.kubeconfig).toBe(kubeconfig);
    // entrypoint kubectl: the experiment's kubeconfig, kubectl's output and exit code passed through.
    const kc = await cli(home, ['kubectl', EXP, '--', 'get', 'nodes', '-o', 'name']);
    expect(kc.exitCode, kc.all).toBe(0);
    expect(kc.stdout.split('\n').sort()).toEqual(['node/control-1', 'node/worker-1', 'node/worker-2', 'node/worker-3']);
    const bad = await cli(home, ['kubectl', EXP, '--', 'get', 'nosuchkind']);
    expect(bad.exitCode).toBe(1);
  });

  it('runs CoreDNS behind the kube-dns Service', async () => {
    const r = await k(['-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'json']);
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout).status.readyReplicas).toBe(1);
    const svc = await k(['-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(svc.stdout).toBe('10.96.0.10');
  });

  it('runs a pod on every node, and every pod reaches the pods on the other hosts', async () => {
    const apply = await k(['apply', '-f', '-'], manifests(install.images.tools!.ref));
    expect(apply.exitCode, apply.all).toBe(0);
    const ds = await k(['-n', NS, 'rollout', 'status', 'daemonset/web', '--timeout=300s'], undefined);
    expect(ds.exitCode, ds.all).toBe(0);
    const web = await podsByNode('app=web');
    expect([...web.keys()].sort()).toEqual(['control-1', 'worker-1', 'worker-2', 'worker-3']);
    for (const [node, p] of web) {
      const cidr = `10.244.${hosts.find((h) => h.name === node)!.address.split('.')[3]}.`;
      expect(p.ip.startsWith(cidr), `${p.name} on ${node} has ${p.ip}`).toBe(true);
    }
    // From each pod (kubectl exec), an HTTP request to every other pod's IP: the answer names the node it ran on.
    for (const [from, p] of web) {
      const targets = [...web.entries()].filter(([n]) => n !== from);
      const script = targets.map(([, t]) => `curl -s --max-time 5 http://${t.ip}/`).join('; ');
      const r = await k(['-n', NS, 'exec', p.name, '--', 'sh', '-c', script]);
      expect(r.exitCode, r.all).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual(targets.map(([n]) => n));
    }
  });

  it('resolves a Service by its DNS name from another node and reaches its backend there', async () => {
    const echo = await k(['-n', NS, 'rollout', 'status', 'deployment/echo', '--timeout=300s']);
    expect(echo.exitCode, echo.all).toBe(0);
    const clusterIp = (await k(['-n', NS, 'get', 'service', 'echo', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    expect(clusterIp).toMatch(/^10\.96\./);
    const from = (await podsByNode('app=web')).get('worker-3')!;
    const r = await k(['-n', NS, 'exec', from.name, '--', 'sh', '-c',
      `getent hosts echo.${NS}.svc.cluster.local; curl -s --max-time 10 http://echo.${NS}.svc.cluster.local:8080/; curl -s --max-time 10 http://echo:8080/`]);
    expect(r.exitCode, r.all).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(new RegExp(`^${clusterIp.replace(/\./g, '\\.')}\\s+echo\\.${NS}\\.svc\\.cluster\\.local`));
    expect(lines.slice(1)).toEqual(['echo on worker-2', 'echo on worker-2']);
  });

  it('serves kubectl logs and kubectl exec through the kubelets', async () => {
    const ready = await k(['-n', NS, 'wait', '--for=condition=Ready', 'pod/hello', '--timeout=300s']);
    expect(ready.exitCode, ready.all).toBe(0);
    const logs = await k(['-n', NS, 'logs', 'hello']);
    expect(logs.exitCode, logs.all).toBe(0);
    expect(logs.stdout).toBe('greenrace log line from worker-1');
    const ex = await k(['-n', NS, 'exec', 'hello', '--', 'cat', '/etc/hostname']);
    expect(ex.exitCode, ex.all).toBe(0);
    expect(ex.stdout.trim()).toBe('hello');
  });

  it("the shell's kube (@kubernetes/client-node) and k() (kubectl) talk to the cluster", async () => {
    const r = await cli(home, ['i', EXP], {
      input: [
        'kube.nodes()',
        `(await kube.pods('${NS}')).filter((p) => p.metadata.labels?.app === 'web').map((p) => p.spec.nodeName).sort().join(',')`,
        `kube.pods({ namespace: '${NS}', selector: 'app=echo' })`,
        `kube.logs('hello', { namespace: '${NS}' })`,
        `kube.exec('hello', 'cat /etc/hostname; echo oops >&2; exit 3', { namespace: '${NS}' })`,
        "(await (await kube.apps()).readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' })).status.readyReplicas",
        "(await k('get nodes -o json')).items.length",
        "kube.logs('no-such-pod', { namespace: 'default' })",
        '',
      ].join('\n'),
    });
    expect(r.exitCode, r.all).toBe(0);
    const out = r.stdout;
    // The nodes as a table: name, Ready, role label, kubelet, pod CIDR, address.
    for (const h of hosts) {
      const role = h.name === 'control-1' ? 'control' : 'worker';
      expect(out).toMatch(new RegExp(`\\n${h.name}\\s+Ready\\s+${role}\\s+${install.kubernetes_version.replace(/\./g, '\\.')}\\s+10\\.244\\.${h.address.split('.')[3]}\\.0/24\\s+${h.address.replace(/\./g, '\\.')}\\n`));
    }
    expect(out).toContain("'control-1,worker-1,worker-2,worker-3'");
    expect(out).toMatch(new RegExp(`\\n${NS}\\s+echo-\\S+\\s+1/1\\s+Running\\s+0\\s+worker-2\\s+10\\.244\\.`));
    expect(out).toContain("'greenrace log line from worker-1\\n'");
    expect(out).toContain("{ code: 3, stdout: 'hello\\n', stderr: 'oops\\n' }");
    expect(out).toMatch(/> 1\n.*> 4\n/s);
    expect(out).toMatch(/error \[k8s\.logs\] cannot read the log of pod default\/no-such-pod: HTTP 404: pods "no-such-pod" not found/);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('a second setup changes nothing on the cluster', async () => {
    const again = await cli(home, ['setup', EXP]);
    expect(again.exitCode, again.all.split('\n').slice(-40).join('\n')).toBe(0);
  }, 900_000);

  it('a second deploy changes nothing', async () => {
    const r = await clusterPlaybook(stateDir, { gr_k8s_action: 'deploy' });
    expect(r.exitCode, r.all.split('\n').slice(-40).join('\n')).toBe(0);
    const changed = changedPerHost(r.stdout);
    expect(Object.keys(changed).sort()).toEqual(['control-1', 'localhost', 'worker-1', 'worker-2', 'worker-3']);
    expect(changed).toEqual({ 'control-1': 0, localhost: 0, 'worker-1': 0, 'worker-2': 0, 'worker-3': 0 });
  }, 900_000);

  it.skipIf(external)('destroy, then killjob, leave nothing behind; a second destroy and killjob are harmless', async () => {
    // The shims' sockets live in the machine's /run/containerd/s: note ours to check they are gone.
    const runDirs = readdirSync('/run/greenrace-k8s').filter((d) => d.startsWith(`${tag}-`));
    shimSockets = [];
    for (const d of runDirs) {
      const tasks = join('/run/greenrace-k8s', d, 'containerd', 'io.containerd.runtime.v2.task', 'k8s.io');
      if (!existsSync(tasks)) continue;
      for (const id of readdirSync(tasks)) {
        const f = join(tasks, id, 'address');
        if (existsSync(f)) shimSockets.push(readFileSync(f, 'utf8').trim().replace(/^unix:\/\//, ''));
      }
    }
    expect(shimSockets.length).toBeGreaterThanOrEqual(8);

    // killjob brings the cluster down before it releases the hosts: checked here with the hosts still up.
    const down = await clusterPlaybook(stateDir, { gr_k8s_action: 'destroy', gr_k8s_distribution: 'upstream' });
    expect(down.exitCode, down.all.split('\n').slice(-40).join('\n')).toBe(0);
    expect(existsSync(kubeconfig)).toBe(false);
    expect(existsSync(join(stateDir, 'k8s'))).toBe(false);
    expect(k8sLeftovers(tag, stateDir)).toEqual({ processes: [], mounts: [], cgroups: [], folders: [], logLinks: [] });
    expect(shimSockets.filter((s) => existsSync(s))).toEqual([]);
    // Inside each host (its network and mount namespaces): no bridge, no pod route, no mount, no cgroup mount.
    for (const h of hosts) {
      const links = await ssh(h.name, 'ip -o link show');
      expect(links).not.toMatch(/grk8s0|veth/);
      expect(await ssh(h.name, 'ip -4 route show root 10.244.0.0/16')).toBe('');
      const mounts = await ssh(h.name, 'cat /proc/self/mountinfo');
      expect(mounts).not.toMatch(/greenrace-k8s|\/var\/lib\/greenrace\/k8s|cgroup/);
      expect(await ssh(h.name, 'cat /proc/sys/net/ipv4/ip_forward')).toBe(forwardingBefore.get(h.name));
    }

    const again = await clusterPlaybook(stateDir, { gr_k8s_action: 'destroy', gr_k8s_distribution: 'upstream' });
    expect(again.exitCode, again.all.split('\n').slice(-40).join('\n')).toBe(0);
    expect(Object.values(changedPerHost(again.stdout)).every((n) => n === 0)).toBe(true);

    const kj = await cli(home, ['killjob', EXP]);
    expect(kj.exitCode, kj.all).toBe(0);
    expect(k8sLeftovers(tag, stateDir)).toEqual({ processes: [], mounts: [], cgroups: [], folders: [], logLinks: [] });
    expect(await leftovers(tag, stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
    markReleased(cluster);
    const kj2 = await cli(home, ['killjob', EXP]);
    expect(kj2.exitCode, kj2.all).toBe(0);
  }, 1_200_000);
});
