/**
 * The one Kubernetes client of greenrace (`@kubernetes/client-node`): server-side apply with field
 * manager `greenrace`, lists and deletes by label, pods and their events, a wait for readiness that
 * names what is not ready and why, exec (stdout, stderr, exit code; abort and timeout kill the
 * command in the container) and files copied out of pods by tar over exec.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { AppsV1Api, CoreV1Api, CoreV1Event, Exec, KubeConfig, KubernetesObjectApi, V1Node, V1Pod, V1Status } from '@kubernetes/client-node';
import { InterruptedError, RunError, UsageError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import { FIELD_MANAGER, NAMESPACE_LABEL, type KubeObject } from './manifests.js';
import { hopeless, isReady, notReadyDetails, type PodLike } from './readiness.js';
import { readTar, type TarEntry } from './tar.js';

export interface ExecResult {
  /** The command's exit code; null when it was killed (abort, timeout) or the exec itself failed. */
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  durationMs: number;
  /** Why the exec failed, when it did not run to an exit code (pod gone, container not running). */
  error?: string;
}

export interface ExecOptions {
  container?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onData?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** The kinds deleted by label at cleanup, dependants first (Deployments before their pods...). */
export const CLEANUP_KINDS: Array<[apiVersion: string, kind: string]> = [
  ['batch/v1', 'Job'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['apps/v1', 'ReplicaSet'],
  ['v1', 'Service'],
  ['v1', 'Pod'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'PersistentVolumeClaim'],
  ['v1', 'ServiceAccount'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
];

/**
 * Cluster-wide kinds deleted at cleanup, after the namespaced ones (a PersistentVolume after its
 * claim); only those labelled with the namespace (NAMESPACE_LABEL) as well as the run's labels.
 */
export const CLUSTER_CLEANUP_KINDS: Array<[apiVersion: string, kind: string]> = [
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['v1', 'PersistentVolume'],
  ['storage.k8s.io/v1', 'StorageClass'],
];

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((res) => {
    if (signal?.aborted) return res();
    const onAbort = (): void => (clearTimeout(t), res());
    // The listener goes with the timer: a wait polling every second must not pile listeners up on one signal.
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), res()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The message of an API error: the Status body's message when there is one. */
export function apiMessage(e: unknown): string {
  const ex = e as { code?: number; body?: unknown; message?: string };
  let body = ex.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // plain text
    }
  }
  let m = (body as { message?: string } | undefined)?.message ?? (typeof body === 'string' && body ? body : undefined) ?? ex.message ?? String(e);
  // fetch's own failure ("fetch failed") carries the reason (ECONNREFUSED, a certificate refused) in its cause.
  const cause = (e as { cause?: { message?: string; code?: string } }).cause;
  if (!ex.code && cause?.message && !m.includes(cause.message)) m = `${m}: ${cause.message}`;
  return `${ex.code ? `HTTP ${ex.code}: ` : ''}${m}`.replace(/\s+/g, ' ').trim();
}

const statusCode = (e: unknown): number | undefined => (e as { code?: number }).code;

/** The exit code a V1Status of an exec carries (0 on Success, the ExitCode cause otherwise), or undefined. */
export function exitCodeOf(s: V1Status | undefined): number | undefined {
  if (!s) return undefined;
  if (s.status === 'Success') return 0;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined ? Number(cause.message) : undefined;
}

/**
 * A command wrapped so it can be killed from a second exec: it runs in its own process group
 * (setsid, when the image has it) whose id is written to `pidfile` first.
 */
export function killableCommand(command: string, pidfile: string): string[] {
  const inner = `echo $$ > ${shq(pidfile)}; exec sh -c "$1"`;
  return ['sh', '-c', `if command -v setsid >/dev/null 2>&1 && setsid -w true 2>/dev/null; then exec setsid -w sh -c ${shq(inner)} sh "$1"; else ${inner}; fi`, 'sh', command];
}

interface Clients {
  config: KubeConfig;
  core: CoreV1Api;
  objects: KubernetesObjectApi;
  execer: Exec;
  applyPatch: string;
  apps: () => AppsV1Api;
}

let lib: Promise<typeof import('@kubernetes/client-node')> | undefined;

/**
 * The client library is loaded on first use (it takes seconds to import on a loaded machine), so
 * commands that never talk to a cluster do not pay for it.
 */
const clientLib = (): Promise<typeof import('@kubernetes/client-node')> => (lib ??= import('@kubernetes/client-node'));

export class Kube {
  private clients: Promise<Clients> | undefined;
  private readonly text: string;

  constructor(readonly kubeconfig: string) {
    if (!existsSync(kubeconfig)) throw new UsageError('k8s.no_kubeconfig', `no kubeconfig at ${kubeconfig}`, { hint: 'bring the cluster up with `entrypoint setup <exp>` (runtime: k3s)' });
    this.text = readFileSync(kubeconfig, 'utf8');
  }

  private api(): Promise<Clients> {
    this.clients ??= clientLib().then((k) => {
      const config = new k.KubeConfig();
      config.loadFromString(this.text);
      let apps: AppsV1Api | undefined;
      return {
        config,
        core: config.makeApiClient(k.CoreV1Api),
        objects: k.KubernetesObjectApi.makeApiClient(config),
        execer: new k.Exec(config),
        applyPatch: k.PatchStrategy.ServerSideApply,
        apps: () => (apps ??= config.makeApiClient(k.AppsV1Api)),
      };
    });
    return this.clients;
  }

  /** The API server's URL (for messages). */
  get server(): string {
    return /(?:^|[\s{,])server:\s*['"]?([^\s'",}]+)/m.exec(this.text)?.[1] ?? '?';
  }

  /** Server-side apply (field manager greenrace, conflicts forced); with `dryRun`, validated by the server and not persisted. */
  async apply(objects: KubeObject[], opts: { dryRun?: boolean } = {}): Promise<KubeObject[]> {
    const { objects: api, applyPatch } = await this.api();
    const out: KubeObject[] = [];
    for (const o of objects) {
      try {
        out.push((await api.patch(o, undefined, opts.dryRun ? 'All' : undefined, FIELD_MANAGER, true, applyPatch as never)) as KubeObject);
      } catch (e) {
        throw new RunError('k8s.apply_failed', `${opts.dryRun ? 'dry-run of ' : ''}${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} refused by the API server (${this.server}): ${apiMessage(e)}`, { cause: e });
      }
    }
    return out;
  }

  async pods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await (await this.api()).core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  /** The pods of every namespace (with a label selector, those carrying the labels). */
  async allPods(labelSelector?: string): Promise<V1Pod[]> {
    return (await (await this.api()).core.listPodForAllNamespaces(labelSelector ? { labelSelector } : {})).items;
  }

  async nodes(): Promise<V1Node[]> {
    return (await (await this.api()).core.listNode()).items;
  }

  /** The raw clients of @kubernetes/client-node bound to this kubeconfig (the core and apps API groups, the config). */
  async raw(): Promise<{ core: CoreV1Api; apps: AppsV1Api; config: KubeConfig }> {
    const c = await this.api();
    return { core: c.core, apps: c.apps(), config: c.config };
  }

  async pod(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      return await (await this.api()).core.readNamespacedPod({ namespace, name });
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  }

  /** Delete a pod (grace in seconds); a pod already gone is fine. */
  async deletePod(namespace: string, name: string, graceSeconds: number): Promise<void> {
    try {
      await (await this.api()).core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: graceSeconds });
    } catch (e) {
      if (statusCode(e) !== 404) throw e;
    }
  }

  /** Read an object (undefined when it does not exist). */
  async read<T = KubeObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await (await this.api()).objects.read({ apiVersion, kind, metadata: { name, namespace } })) as T;
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  }

  /** The events of the objects of a namespace, by object name (oldest first). */
  async events(namespace: string): Promise<Map<string, CoreV1Event[]>> {
    const items = (await (await this.api()).core.listNamespacedEvent({ namespace })).items;
    const by = new Map<string, CoreV1Event[]>();
    for (const e of items.sort((a, b) => stamp(a) - stamp(b))) {
      const n = e.involvedObject?.name ?? '';
      by.set(n, [...(by.get(n) ?? []), e]);
    }
    return by;
  }

  /** A pod's container log (the last `tail` lines when given); throws naming the pod when it cannot be read. */
  async log(namespace: string, name: string, o: { tail?: number; container?: string } = {}): Promise<string> {
    try {
      return await (await this.api()).core.readNamespacedPodLog({ namespace, name, ...(o.tail !== undefined ? { tailLines: o.tail } : {}), ...(o.container ? { container: o.container } : {}) });
    } catch (e) {
      throw new RunError('k8s.logs', `cannot read the log of pod ${namespace}/${name}${o.container ? ` (container ${o.container})` : ''}: ${apiMessage(e)}`);
    }
  }

  /** The last lines of a pod's container log ('' when there is none yet). */
  async logTail(namespace: string, name: string, lines = 20, container?: string): Promise<string> {
    try {
      return await (await this.api()).core.readNamespacedPodLog({ namespace, name, tailLines: lines, ...(container ? { container } : {}) });
    } catch {
      return '';
    }
  }

  /**
   * Wait until `count` pods of the selector are Running and Ready. Fails at once when a pod cannot
   * become ready (failed, image not pullable, crash loop), or after `timeoutMs`, with one line per pod
   * not ready (phase, why the scheduler left it pending, containers' states), its warning events and
   * its log's last lines.
   */
  async waitReady(namespace: string, labelSelector: string, count: number, o: { timeoutMs: number; what: string; signal?: AbortSignal }): Promise<V1Pod[]> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      if (o.signal?.aborted) throw new InterruptedError(`${o.what}: interrupted while waiting for readiness`);
      const pods = (await this.pods(namespace, labelSelector)).filter((p) => !p.metadata?.deletionTimestamp);
      const ready = pods.filter((p) => isReady(p as PodLike));
      if (ready.length >= count && count > 0) return ready;
      const lost = pods.map((p) => [p, hopeless(p as PodLike)] as const).find(([, why]) => why);
      if (lost || Date.now() > deadline) {
        const events = await this.events(namespace).catch(() => new Map<string, CoreV1Event[]>());
        const details = notReadyDetails(pods as PodLike[], (n) => (events.get(n) ?? []) as never);
        if (pods.length < count) details.unshift(`${pods.length} of ${count} pods exist (selector ${labelSelector})`);
        for (const [p] of lost ? [lost] : []) {
          const tail = (await this.logTail(namespace, p.metadata!.name!, 10)).trim();
          if (tail) details.push(`  last log lines of ${p.metadata!.name}:`, ...tail.split('\n').map((l) => `    ${l}`));
        }
        const msg = lost ? `${o.what}: pod ${lost[0].metadata?.name} will not become ready: ${lost[1]}` : `${o.what}: ${ready.length} of ${count} pods ready after ${Math.round(o.timeoutMs / 1000)} s`;
        throw new RunError('k8s.not_ready', msg, { details });
      }
      await sleep(1000, o.signal);
    }
  }

  /** Wait until a pod has ended (Succeeded or Failed); its final state, or undefined after the timeout. */
  async waitEnded(namespace: string, name: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<V1Pod | undefined> {
    const deadline = Date.now() + o.timeoutMs;
    while (Date.now() < deadline && !o.signal?.aborted) {
      const p = await this.pod(namespace, name);
      if (!p) return undefined;
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return p;
      await sleep(1000, o.signal);
    }
    return undefined;
  }

  /**
   * Run a command in a pod's container: stdout, stderr and its exit code. Abort and timeout kill it
   * in the container (its process group, through a second exec) before this settles.
   */
  async exec(namespace: string, pod: string, command: string, o: ExecOptions = {}): Promise<ExecResult> {
    const t0 = Date.now();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (list: Buffer[], name: 'stdout' | 'stderr') =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          list.push(Buffer.from(chunk));
          o.onData?.(name, Buffer.from(chunk));
          cb();
        },
      });
    const pidfile = `/tmp/.greenrace-exec-${process.pid}-${Math.random().toString(36).slice(2, 10)}.pgid`;
    const container = o.container ?? (await this.firstContainer(namespace, pod));
    const { execer } = await this.api();
    let status: V1Status | undefined;
    let killed: 'abort' | 'timeout' | undefined;
    let ws: Awaited<ReturnType<Exec['exec']>>;
    try {
      ws = await execer.exec(namespace, pod, container, killableCommand(command, pidfile), sink(out, 'stdout'), sink(err, 'stderr'), null, false, (s) => (status = s));
    } catch (e) {
      return { code: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), timedOut: false, durationMs: Date.now() - t0, error: `cannot exec in pod ${namespace}/${pod}: ${apiMessage(e)}` };
    }
    const kill = async (why: 'abort' | 'timeout'): Promise<void> => {
      if (killed) return;
      killed = why;
      const k = `p=$(cat ${shq(pidfile)} 2>/dev/null) && [ "$p" -gt 1 ] && { kill -TERM -$p 2>/dev/null || kill -TERM $p; sleep 1; kill -KILL -$p 2>/dev/null; }; rm -f ${shq(pidfile)}`;
      await execer.exec(namespace, pod, container, ['sh', '-c', k], null, null, null, false).then(
        (w) => new Promise<void>((res) => (w.readyState === w.CLOSED ? res() : w.on('close', () => res()))),
        () => undefined,
      );
    };
    const timer = o.timeoutMs ? setTimeout(() => void kill('timeout'), o.timeoutMs) : undefined;
    const onAbort = (): void => void kill('abort');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    await new Promise<void>((res) => (ws.readyState === ws.CLOSED ? res() : ws.on('close', () => res())));
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    const code = killed ? null : exitCodeOf(status);
    const r: ExecResult = { code: code ?? null, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut: killed === 'timeout', durationMs: Date.now() - t0 };
    if (code === undefined && !killed) r.error = `exec in pod ${namespace}/${pod} ended without an exit code${status?.message ? `: ${status.message}` : ''}`;
    return r;
  }

  private async firstContainer(namespace: string, pod: string): Promise<string> {
    const p = await this.pod(namespace, pod);
    const c = p?.spec?.containers?.[0]?.name;
    if (!c) throw new RunError('k8s.no_pod', `pod ${namespace}/${pod} does not exist`);
    return c;
  }

  /**
   * Copy files out of a pod: `tar cf -` of `path` (a file or a folder) over exec, read here. Throws
   * naming pod and path when tar fails (no such file, no tar in the image).
   */
  async copyFrom(namespace: string, pod: string, path: string, o: ExecOptions = {}): Promise<TarEntry[]> {
    const slash = path.lastIndexOf('/');
    const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? '/' : '.';
    const base = path.slice(slash + 1);
    const r = await this.exec(namespace, pod, `tar cf - -C ${shq(dir)} ${shq(base)}`, { timeoutMs: 120_000, ...o });
    if (r.error) throw new RunError('k8s.copy_failed', `cannot copy ${path} from pod ${pod}: ${r.error}`);
    if (r.code !== 0) throw new RunError('k8s.copy_failed', `cannot copy ${path} from pod ${pod}: ${r.stderr.toString().trim() || (r.timedOut ? 'timed out' : `tar exited ${r.code}`)}`);
    try {
      return readTar(r.stdout);
    } catch (e) {
      throw new RunError('k8s.copy_failed', `cannot copy ${path} from pod ${pod}: ${(e as Error).message}`);
    }
  }

  /**
   * Every object of the cleanup kinds carrying the labels, in the namespace, then the cluster-wide
   * ones carrying them and the namespace's label: deleted (background propagation), then its pods
   * waited for.
   */
  async deleteByLabel(namespace: string, labelSelector: string, o: { waitMs?: number; graceSeconds?: number } = {}): Promise<string[]> {
    const { objects } = await this.api();
    const deleted: string[] = [];
    const kinds = [...CLEANUP_KINDS.map(([v, k]) => [v, k, namespace] as const), ...CLUSTER_CLEANUP_KINDS.map(([v, k]) => [v, k, undefined] as const)];
    for (const [apiVersion, kind, ns] of kinds) {
      let items: KubeObject[] = [];
      try {
        const sel = ns ? labelSelector : `${labelSelector},${NAMESPACE_LABEL}=${namespace}`;
        items = (await objects.list(apiVersion, kind, ns, undefined, undefined, undefined, undefined, sel)).items as KubeObject[];
      } catch (e) {
        // 404: a kind the server does not serve; 403: one this kubeconfig may not list.
        if (statusCode(e) === 404 || (!ns && statusCode(e) === 403)) continue;
        throw e;
      }
      for (const it of items) {
        try {
          await objects.delete({ apiVersion, kind, metadata: { name: it.metadata.name, ...(ns ? { namespace: ns } : {}) } }, undefined, undefined, o.graceSeconds ?? (kind === 'Pod' ? 1 : undefined), undefined, 'Background');
          deleted.push(`${kind}/${it.metadata.name}`);
        } catch (e) {
          if (statusCode(e) !== 404) throw e;
        }
      }
    }
    const deadline = Date.now() + (o.waitMs ?? 60_000);
    while (Date.now() < deadline && (await this.pods(namespace, labelSelector).catch(() => [])).length > 0) await sleep(500);
    return deleted;
  }
}

function stamp(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
}
