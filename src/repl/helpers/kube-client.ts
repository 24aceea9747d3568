/**
 * The shell's `kube`: a client of the experiment's cluster from @kubernetes/client-node (the one of
 * runtimes/k8s/kube.ts, reached through app), bound to its kubeconfig. Every call reads the
 * experiment's current kubeconfig, so a cluster set up again (new CA) or another experiment loaded
 * with loadConfig('other') is followed; without a cluster each call fails with the reason.
 */
import { inspect } from 'node:util';
import { argError, type Session } from '../session.js';
import { table, withView } from '../display.js';
import type { HelperDef } from './types.js';

type App = typeof import('../../app/kubernetes.js');
const app = (): Promise<App> => import('../../app/kubernetes.js');

interface PodsWhere {
  namespace?: string;
  selector?: string;
}

/** `pods()`, `pods('kube-system')`, `pods({ namespace, selector })`. */
export function podsWhere(where: unknown): PodsWhere {
  const SIG = 'kube.pods(namespace? | { namespace?, selector? })';
  if (where === undefined) return {};
  if (typeof where === 'string') {
    if (!where) throw argError(SIG, 'namespace must be a non-empty string');
    return { namespace: where };
  }
  if (typeof where !== 'object' || where === null || Array.isArray(where)) throw argError(SIG, `expected a namespace or { namespace, selector } (got ${Array.isArray(where) ? 'a list' : typeof where})`);
  const w = where as Record<string, unknown>;
  const unknown = Object.keys(w).filter((k) => k !== 'namespace' && k !== 'selector');
  if (unknown.length) throw argError(SIG, `unknown option ${unknown.join(', ')} (namespace, selector)`);
  for (const k of ['namespace', 'selector'] as const) if (w[k] !== undefined && (typeof w[k] !== 'string' || !w[k])) throw argError(SIG, `${k} must be a non-empty string`);
  return { ...(w.namespace ? { namespace: w.namespace as string } : {}), ...(w.selector ? { selector: w.selector as string } : {}) };
}

interface PodOpts {
  namespace: string;
  container?: string;
  tail?: number;
  timeout?: number;
}

/** Options of logs/exec: namespace (default "default"), container, tail (logs), timeout in s (exec). */
export function podOpts(sig: string, pod: unknown, opts: unknown, allowed: Array<'tail' | 'timeout'>): { pod: string } & PodOpts {
  if (typeof pod !== 'string' || !pod) throw argError(sig, `pod must be a pod's name (got ${typeof pod === 'string' ? 'an empty string' : typeof pod})`);
  if (opts === undefined) opts = {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw argError(sig, 'opts must be an object');
  const o = opts as Record<string, unknown>;
  const keys = ['namespace', 'container', ...allowed];
  const bad = Object.keys(o).filter((k) => !keys.includes(k));
  if (bad.length) throw argError(sig, `unknown option ${bad.join(', ')} (${keys.join(', ')})`);
  for (const k of ['namespace', 'container']) if (o[k] !== undefined && (typeof o[k] !== 'string' || !o[k])) throw argError(sig, `opts.${k} must be a non-empty string`);
  if (o.tail !== undefined && !(Number.isInteger(o.tail) && (o.tail as number) > 0)) throw argError(sig, 'opts.tail must be a whole number of lines above 0');
  if (o.timeout !== undefined && !(typeof o.timeout === 'number' && o.timeout > 0)) throw argError(sig, 'opts.timeout must be a number of seconds above 0');
  return {
    pod,
    namespace: (o.namespace as string | undefined) ?? 'default',
    ...(o.container ? { container: o.container as string } : {}),
    ...(o.tail !== undefined ? { tail: o.tail as number } : {}),
    ...(o.timeout !== undefined ? { timeout: o.timeout as number } : {}),
  };
}

const METHODS = [
  'nodes()                       the nodes (V1Node[]), shown as name, status, role label, kubelet, pod CIDR, address',
  "pods(namespace? | { namespace, selector })  pods (V1Pod[]) of every namespace, of one, or carrying labels ('app=web')",
  'logs(pod, { namespace, container, tail })    a container log as text',
  'exec(pod, command, { namespace, container, timeout })  run a shell command in the pod: { code, stdout, stderr }',
  'core(), apps()                the raw CoreV1Api / AppsV1Api of @kubernetes/client-node (objects in, objects out)',
  'config()                      its KubeConfig (for other API groups: (await kube.config()).makeApiClient(...))',
];

/** The object the shell binds to `kube`. */
export function makeKube(s: Session): Record<string, unknown> {
  /** One call on the client of the session's experiment, under Ctrl-C (an HTTP call is abandoned at once). */
  const call = <T>(what: string, fn: (kube: Awaited<ReturnType<App['clusterClient']>>['kube']) => Promise<T>, opts: { abandonOnAbort?: boolean } = { abandonOnAbort: true }): Promise<T> =>
    s.task(async () => {
      const a = await app();
      const { kube } = await a.clusterClient(s.exp);
      try {
        return await fn(kube);
      } catch (e) {
        throw await a.clusterApiError(what, kube, e);
      }
    }, opts);

  const kube = {
    nodes: () =>
      call('kube.nodes()', async (k) => {
        const nodes = await k.nodes();
        const rows = (await app()).nodeRowsOf(nodes as never);
        return withView(nodes, () =>
          table(
            rows.map((r) => [r.name, r.ready ? 'Ready' : `NotReady (${r.reason})`, r.role || '-', r.kubelet, r.podCIDR || '-', r.address]),
            ['NAME', 'STATUS', 'ROLE', 'KUBELET', 'POD CIDR', 'ADDRESS'],
          ),
        );
      }),
    pods: (where?: unknown) => {
      const w = podsWhere(where);
      return call(`kube.pods(${where === undefined ? '' : inspect(where, { breakLength: Infinity })})`, async (k) => {
        const pods = w.namespace ? await k.pods(w.namespace, w.selector ?? '') : await k.allPods(w.selector);
        const rows = (await app()).podRows(pods as never);
        return withView(pods, () =>
          rows.length
            ? table(
                rows.map((r) => [r.namespace, r.name, r.ready, r.status, String(r.restarts), r.node || '-', r.ip || '-']),
                ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'NODE', 'IP'],
              )
            : `no pods${w.namespace ? ` in namespace ${w.namespace}` : ''}${w.selector ? ` with ${w.selector}` : ''}`,
        );
      });
    },
    logs: (pod: unknown, opts?: unknown) => {
      const o = podOpts('kube.logs(pod, opts?)', pod, opts, ['tail']);
      return call(`kube.logs(${o.pod})`, (k) => k.log(o.namespace, o.pod, { ...(o.tail ? { tail: o.tail } : {}), ...(o.container ? { container: o.container } : {}) }));
    },
    exec: (pod: unknown, command: unknown, opts?: unknown) => {
      const SIG = 'kube.exec(pod, command, opts?)';
      const o = podOpts(SIG, pod, opts, ['timeout']);
      if (typeof command !== 'string' || !command.trim()) throw argError(SIG, `command must be a non-empty string (got ${typeof command === 'string' ? 'an empty string' : typeof command})`);
      return s.task(async (signal) => {
        const a = await app();
        const { kube: k } = await a.clusterClient(s.exp);
        const r = await k.exec(o.namespace, o.pod, command, { timeoutMs: (o.timeout ?? 60) * 1000, signal, ...(o.container ? { container: o.container } : {}) }).catch(async (e: unknown) => {
          throw await a.clusterApiError(`kube.exec(${o.pod})`, k, e);
        });
        if (r.error) {
          const { GreenraceError } = await import('../../core/errors.js');
          throw new GreenraceError('k8s.exec', `kube.exec(${o.pod}): ${r.error}`);
        }
        if (r.timedOut) {
          const { GreenraceError } = await import('../../core/errors.js');
          throw new GreenraceError('k8s.exec', `kube.exec(${o.pod}): timed out after ${o.timeout ?? 60} s (the command was killed in the container)`);
        }
        return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
      });
    },
    core: () => call('kube.core()', async (k) => (await k.raw()).core),
    apps: () => call('kube.apps()', async (k) => (await k.raw()).apps),
    config: () => call('kube.config()', async (k) => (await k.raw()).config),
  };
  Object.defineProperty(kube, inspect.custom, {
    value: () => [`kube: a Kubernetes client (@kubernetes/client-node) of ${s.exp}'s cluster`, ...METHODS.map((m) => `  kube.${m}`)].join('\n'),
    enumerable: false,
  });
  return Object.freeze(kube);
}

const clients = new WeakMap<Session, Record<string, unknown>>();

export const kube: HelperDef = {
  name: 'kube',
  kind: 'value',
  signature: 'kube',
  summary: "a Kubernetes client (@kubernetes/client-node) of the experiment's cluster: kube.nodes(), kube.pods(), …",
  details: [
    "Bound to the experiment's kubeconfig (runtime: k3s, after setup); without a cluster every call says why.",
    ...METHODS.map((m) => `kube.${m}`),
    'Lists come back as the API\'s objects, shown as a table; Ctrl-C abandons a call (and kills an exec\'d command).',
    'An API error is one message naming the call and the API server. Same cluster as k(…) (kubectl).',
  ],
  examples: [
    'kube.nodes()',
    "kube.pods('kube-system')",
    "(await kube.pods({ selector: 'app=web' })).map((p) => p.spec.nodeName)",
    "kube.exec('hello', 'cat /etc/hostname', { namespace: 'demo' })",
    "(await kube.apps()).readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' })",
  ],
  get: (s: Session) => {
    let c = clients.get(s);
    if (!c) clients.set(s, (c = makeKube(s)));
    return c;
  },
};
