/**
 * The `k3s` runtime's executor (any Kubernetes: k3s or the upstream cluster): the same seam as the
 * host executor, in pods. "A host" is its node: commands run and files go through a toolbox pod on
 * the node (its network, the host's data folder mounted), background programs are pods pinned to
 * the node (ready when their port listens), stopped by deleting them. Workloads that follow a seed's
 * own Kubernetes workflow (pod + Service, DaemonSets, racefile manifests) use `kube`, `apply`,
 * `exec`, `copyFrom` and `cleanup` directly; everything carries the run's labels and is deleted by
 * them whatever happens. Tools come with the image (`installTools` refuses, naming it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RunError, UsageError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import type { WorkHost } from '../../core/types.js';
import type { Executor, InstallReport, RunOptions, RunResult, StartSpec, Started, ToolNeeds } from '../executor.js';
import type { V1Pod } from '@kubernetes/client-node';
import { Kube, type ExecOptions } from './kube.js';
import { dnsName, fromTemplate, MANAGED_BY, RUN_LABEL, selector, type KubeObject } from './manifests.js';

export interface K8sImages {
  /** iperf3, netperf, sockperf, wrk, nginx, curl, iproute2, tar (the cluster's `tools` image). */
  tools: string;
  [name: string]: string;
}

export interface K8sExecutorOptions {
  kubeconfig: string;
  images: K8sImages;
  /** Where greenrace's objects go (default `greenrace`). */
  namespace?: string;
  /** The experiment's name (a label on everything). */
  experiment?: string;
}

/** The labels of everything an executor session creates. */
export interface SessionLabels {
  [MANAGED_BY]: 'greenrace';
  [RUN_LABEL]: string;
  'greenrace.io/experiment'?: string;
}

const short = (): string => randomBytes(3).toString('hex');

/** A host's data folder path for a pod's hostPath (absolute, no trailing slash). */
const dataDirOf = (h: WorkHost): string => h.dataDir.replace(/\/+$/, '') || '/';

export class K8sExecutor implements Executor {
  readonly runtime = 'k8s';
  readonly canInstall = false;
  readonly kube: Kube;
  readonly namespace: string;
  readonly images: K8sImages;
  /** This session's id: the `greenrace.io/run` label of the toolboxes and programs it starts. */
  readonly session: string;
  private readonly toolboxes = new Map<string, Promise<string>>();
  private readonly started = new Set<Started>();
  private nsReady: Promise<void> | undefined;

  constructor(private readonly opts: K8sExecutorOptions) {
    this.kube = new Kube(opts.kubeconfig);
    this.namespace = opts.namespace ?? 'greenrace';
    this.images = opts.images;
    this.session = `s-${Date.now().toString(36)}-${short()}`;
  }

  /** The labels of objects belonging to `run` (a run id, or this session). */
  labels(run: string = this.session): Record<string, string> {
    return { [MANAGED_BY]: 'greenrace', [RUN_LABEL]: run, ...(this.opts.experiment ? { 'greenrace.io/experiment': dnsName(this.opts.experiment) } : {}) };
  }

  /** The namespace, created once (server-side apply). */
  ensureNamespace(): Promise<void> {
    this.nsReady ??= this.kube.apply(fromTemplate('namespace.yaml.njk', {}, this.namespace, { [MANAGED_BY]: 'greenrace' })).then(() => undefined);
    return this.nsReady;
  }

  /** Server-side apply of prepared objects (the namespace first). */
  async apply(objects: KubeObject[], opts: { dryRun?: boolean } = {}): Promise<KubeObject[]> {
    await this.ensureNamespace();
    return this.kube.apply(objects, opts);
  }

  /** Render a template of templates/k8s/ for a run (its labels) and apply it. */
  async applyTemplate(name: string, vars: Record<string, unknown>, run: string, opts: { dryRun?: boolean } = {}): Promise<KubeObject[]> {
    return this.apply(fromTemplate(name, vars, this.namespace, this.labels(run)), opts);
  }

  exec(pod: string, command: string, o: ExecOptions = {}) {
    return this.kube.exec(this.namespace, pod, command, o);
  }

  copyFrom(pod: string, path: string, o: ExecOptions = {}) {
    return this.kube.copyFrom(this.namespace, pod, path, o);
  }

  /** Delete everything of a run (by its label) and wait for its pods to be gone. */
  cleanup(run: string): Promise<string[]> {
    return this.kube.deleteByLabel(this.namespace, selector({ [RUN_LABEL]: run }));
  }

  /** The toolbox pod of a host's node (started once per session, ready before use). */
  private toolbox(host: WorkHost, signal?: AbortSignal): Promise<string> {
    let p = this.toolboxes.get(host.name);
    if (!p) {
      const name = dnsName(`gr-toolbox-${host.name}-${this.session.slice(-6)}`);
      p = (async () => {
        await this.applyTemplate('toolbox.yaml.njk', { name, node: host.name, image: this.images.tools, dataDir: dataDirOf(host) }, this.session);
        await this.kube.waitReady(this.namespace, selector({ [RUN_LABEL]: this.session, 'greenrace.io/part': 'toolbox', 'greenrace.io/node': host.name }), 1, { timeoutMs: 180_000, what: `toolbox pod on node ${host.name}`, ...(signal ? { signal } : {}) });
        return name;
      })();
      p.catch(() => this.toolboxes.delete(host.name));
      this.toolboxes.set(host.name, p);
    }
    return p;
  }

  async run(host: WorkHost, command: string, opts: RunOptions = {}): Promise<RunResult> {
    const pod = await this.toolbox(host, opts.signal);
    const cmd = opts.input !== undefined ? `printf %s ${shq(Buffer.from(opts.input).toString('base64'))} | base64 -d | sh -c ${shq(command)}` : command;
    const r = await this.exec(pod, cmd, {
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onData ? { onData: (s: 'stdout' | 'stderr', c: Buffer) => opts.onData!(host.name, s, c.toString()) } : {}),
    });
    if (r.error) throw new RunError('run.exec_failed', `cannot run a command on node ${host.name}: ${r.error}`);
    return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString(), timedOut: r.timedOut, durationMs: r.durationMs };
  }

  async start(spec: StartSpec): Promise<Started> {
    if (spec.file) throw new RunError('run.start_file', `${spec.name}: a file written with the start is not supported on Kubernetes (write ${spec.file.path} first)`);
    const dir = spec.dir ?? `${dataDirOf(spec.host)}/net`;
    const name = dnsName(`${spec.name}-${spec.host.name}-${short()}`);
    const s: Started = { host: spec.host, name: spec.name, pidfile: `pod:${this.namespace}/${name}`, logfile: `${dir}/${spec.name}.log` };
    const wait = spec.waitSeconds ?? 10;
    await this.applyTemplate('program.yaml.njk', { name, program: dnsName(spec.name), node: spec.host.name, image: this.images.tools, dataDir: dataDirOf(spec.host), dir, logfile: s.logfile, command: spec.command, port: spec.port ?? 0, grace: 3 }, this.session);
    this.started.add(s);
    try {
      if (spec.port) {
        // Its Ready condition is the port probe; image pull and pod start come before the program's own start-up.
        await this.kube.waitReady(this.namespace, selector({ 'greenrace.io/instance': name }), 1, { timeoutMs: wait * 1000 + 60_000, what: `${spec.name} on node ${spec.host.name}`, ...(spec.signal ? { signal: spec.signal } : {}) });
      } else {
        await this.waitRunning(name, wait, spec);
      }
    } catch (e) {
      const tail = await this.run(spec.host, `tail -n 15 ${shq(s.logfile)} 2>/dev/null`, { timeoutMs: 20_000 }).then((r) => r.stdout.trim(), () => '');
      await this.stop(s, { graceSeconds: 0 }).catch(() => undefined);
      const err = e as RunError;
      throw new RunError('run.start_failed', `${spec.name} failed to start on node ${spec.host.name}: ${err.message}`, { details: [...(err.details ?? []), ...(tail ? ['last log lines:', ...tail.split('\n')] : [])], cause: e });
    }
    return s;
  }

  /** Without a port: ready when the pod runs and is still running a moment later. */
  private async waitRunning(pod: string, waitSeconds: number, spec: StartSpec): Promise<void> {
    const deadline = Date.now() + waitSeconds * 1000 + 60_000;
    for (;;) {
      const p = await this.kube.pod(this.namespace, pod);
      const phase = p?.status?.phase;
      if (!p) throw new RunError('k8s.pod_gone', `pod ${pod} disappeared`);
      if (phase === 'Failed' || phase === 'Succeeded') throw new RunError('k8s.pod_exited', `it exited at once (${phase})`);
      if (phase === 'Running') {
        await new Promise((r) => setTimeout(r, 300));
        const again = await this.kube.pod(this.namespace, pod);
        if (again?.status?.phase === 'Running') return;
        throw new RunError('k8s.pod_exited', `it exited at once (${again?.status?.phase ?? 'deleted'})`);
      }
      if (Date.now() > deadline || spec.signal?.aborted) {
        // Fails with the wait's own words: what is not ready and why (events).
        await this.kube.waitReady(this.namespace, selector({ 'greenrace.io/instance': pod }), 1, { timeoutMs: 0, what: `${spec.name} on node ${spec.host.name}` });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private podOf(s: Started): string {
    return s.pidfile.replace(/^pod:[^/]+\//, '');
  }

  async stop(what?: Started | Started[], opts: { graceSeconds?: number } = {}): Promise<void> {
    const list = what === undefined ? [...this.started] : Array.isArray(what) ? what : [what];
    await Promise.all(
      list.map(async (s) => {
        await this.kube.deletePod(this.namespace, this.podOf(s), opts.graceSeconds ?? 3).catch(() => undefined);
        this.started.delete(s);
      }),
    );
  }

  async wait(what: Started[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    const ended = await Promise.all(what.map((s) => this.kube.waitEnded(this.namespace, this.podOf(s), { timeoutMs: opts.timeoutMs ?? 86_400_000, ...(opts.signal ? { signal: opts.signal } : {}) })));
    return ended.every((p) => p !== undefined);
  }

  async fetch(host: WorkHost, remotePath: string, localPath: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const pod = await this.toolbox(host, opts.signal);
    const entries = await this.copyFrom(pod, remotePath, { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.signal ? { signal: opts.signal } : {}) }).catch((e: Error) => {
      throw new RunError('run.fetch_failed', `cannot copy ${remotePath} from ${host.name}: ${e.message}`);
    });
    const file = entries.find((e) => e.type === 'file');
    if (!file) throw new RunError('run.fetch_failed', `cannot copy ${remotePath} from ${host.name}: not a regular file`);
    mkdirSync(dirname(localPath), { recursive: true });
    writeFileSync(localPath, file.data);
  }

  async put(host: WorkHost, path: string, content: string, opts: { mode?: string } = {}): Promise<void> {
    const b64 = Buffer.from(content).toString('base64');
    const tmp = `${path}.gr-tmp-${short()}`;
    // Arguments are limited to 128 KiB each: large contents go in chunks.
    const chunks = b64.match(/.{1,65536}/gs) ?? [''];
    const steps = [`mkdir -p ${shq(dirname(path))} && : > ${shq(tmp)}`, ...chunks.map((c) => `printf %s ${shq(c)} | base64 -d >> ${shq(tmp)}`), `${opts.mode ? `chmod ${shq(opts.mode)} ${shq(tmp)} && ` : ''}mv -f ${shq(tmp)} ${shq(path)}`];
    for (const step of steps) {
      const r = await this.run(host, step, { timeoutMs: 60_000 });
      if (r.code !== 0) throw new RunError('run.put_failed', `cannot write ${path} on ${host.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
  }

  installTools(_hosts: WorkHost[], needs: ToolNeeds): Promise<InstallReport> {
    const what = [...needs.packages, ...(needs.uperf ? ['uperf'] : []), ...(needs.pcp ? ['pcp'] : [])];
    return Promise.reject(
      new RunError('run.cannot_install', `on runtime k3s programs come with the image, not installed on nodes: ${what.join(', ') || 'the requested programs'} ${what.length > 1 ? 'are' : 'is'} not in ${this.images.tools}`, {
        hint: 'add the Debian package to the tools image (setup/k8s/images.py) and run setup/install.sh --k8s again',
      }),
    );
  }

  /** Everything this session started (toolboxes, programs), deleted. */
  async close(): Promise<void> {
    this.started.clear();
    this.toolboxes.clear();
    await this.cleanup(this.session).catch(() => undefined);
  }
}

/** What the cluster's install wrote: `<state>/kubeconfig` and `<state>/k8s/cluster.json` (images among them). */
export function clusterFiles(stateDir: string): { kubeconfig: string; clusterJson: string } {
  return { kubeconfig: join(stateDir, 'kubeconfig'), clusterJson: join(stateDir, 'k8s', 'cluster.json') };
}

/** The images a cluster's summary lists (`images.<name>.ref`). */
export function imagesOf(cluster: { images?: Record<string, { ref?: string } | string> }, source: string): K8sImages {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cluster.images ?? {})) {
    const ref = typeof v === 'string' ? v : v?.ref;
    if (ref) out[k] = ref;
  }
  if (!out.tools) throw new RunError('k8s.no_tools_image', `${source} names no tools image (images.tools): the network workloads need it`, { hint: 'bring the cluster up with `entrypoint setup <exp>` after `setup/install.sh --k8s`' });
  return out as K8sImages;
}

/** The executor of an experiment whose cluster is up (runtime k3s): its kubeconfig and the cluster's images. */
export function k8sExecutorFor(stateDir: string, experiment: string, namespace = 'greenrace'): K8sExecutor {
  const f = clusterFiles(stateDir);
  if (!existsSync(f.clusterJson)) {
    throw new UsageError('experiment.not_ready', `experiment ${experiment} has no Kubernetes cluster (${f.clusterJson} is missing)`, { hint: `run \`entrypoint setup ${experiment}\`` });
  }
  const cluster = JSON.parse(readFileSync(f.clusterJson, 'utf8')) as { kubeconfig?: string; images?: Record<string, { ref?: string }> };
  return new K8sExecutor({ kubeconfig: cluster.kubeconfig ?? f.kubeconfig, images: imagesOf(cluster, f.clusterJson), namespace, experiment });
}

/** The node a pod runs on, as a host of the experiment (same name), or one made from the pod's node. */
export function hostOfNode(hosts: WorkHost[], pod: V1Pod): WorkHost {
  const node = pod.spec?.nodeName ?? '?';
  return hosts.find((h) => h.name === node) ?? { name: node, address: pod.status?.hostIP ?? '?', port: 22, user: 'root', roles: [], dataDir: `/tmp/greenrace/${node}` };
}
