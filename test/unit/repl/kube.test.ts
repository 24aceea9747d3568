/**
 * The shell's `kube` (a @kubernetes/client-node client of the experiment's cluster): its arguments,
 * its tables, and the reason it gives when there is no cluster to talk to (not set up, runtime host,
 * an API server that does not answer). Calls on a real cluster are in test/integration/repl-shell.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRows } from '../../../src/app/kubernetes.js';
import { writeState, type ExperimentState } from '../../../src/app/state.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import { podOpts, podsWhere } from '../../../src/repl/helpers/kube-client.js';
import { runShell } from '../../../src/repl/shell.js';

describe('kube: arguments', () => {
  it('pods() takes nothing, a namespace, or { namespace, selector }', () => {
    expect(podsWhere(undefined)).toEqual({});
    expect(podsWhere('kube-system')).toEqual({ namespace: 'kube-system' });
    expect(podsWhere({ selector: 'app=web' })).toEqual({ selector: 'app=web' });
    expect(podsWhere({ namespace: 'demo', selector: 'app=web' })).toEqual({ namespace: 'demo', selector: 'app=web' });
    expect(() => podsWhere(42)).toThrow('kube.pods(namespace? | { namespace?, selector? }): expected a namespace or { namespace, selector } (got number)');
    expect(() => podsWhere({ labels: 'x' })).toThrow('unknown option labels (namespace, selector)');
    expect(() => podsWhere({ selector: '' })).toThrow('selector must be a non-empty string');
    expect(() => podsWhere('')).toThrow('namespace must be a non-empty string');
  });

  it('logs/exec take a pod name and options, namespace "default" unless given', () => {
    expect(podOpts('kube.logs(pod, opts?)', 'hello', undefined, ['tail'])).toEqual({ pod: 'hello', namespace: 'default' });
    expect(podOpts('kube.logs(pod, opts?)', 'hello', { namespace: 'demo', tail: 5, container: 'c' }, ['tail'])).toEqual({ pod: 'hello', namespace: 'demo', tail: 5, container: 'c' });
    expect(() => podOpts('kube.logs(pod, opts?)', 7, {}, ['tail'])).toThrow("kube.logs(pod, opts?): pod must be a pod's name (got number)");
    expect(() => podOpts('kube.logs(pod, opts?)', 'p', { tail: 0 }, ['tail'])).toThrow('opts.tail must be a whole number of lines above 0');
    expect(() => podOpts('kube.logs(pod, opts?)', 'p', { timeout: 3 }, ['tail'])).toThrow('unknown option timeout (namespace, container, tail)');
    expect(() => podOpts('kube.exec(pod, command, opts?)', 'p', { timeout: -1 }, ['timeout'])).toThrow('opts.timeout must be a number of seconds above 0');
  });
});

describe('kube.pods(): rows as kubectl get pods shows them', () => {
  it('counts ready containers and restarts, and names why a container waits or ended', () => {
    const pods = [
      {
        metadata: { name: 'web-x', namespace: 'demo' },
        spec: { nodeName: 'worker-1', containers: [{}, {}] },
        status: { phase: 'Running', podIP: '10.244.12.5', containerStatuses: [{ ready: true, restartCount: 0, state: { running: {} } }, { ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      },
      { metadata: { name: 'coredns-1', namespace: 'kube-system' }, spec: { nodeName: 'worker-2', containers: [{}] }, status: { phase: 'Running', podIP: '10.244.13.2', containerStatuses: [{ ready: true, restartCount: 0, state: { running: {} } }] } },
      { metadata: { name: 'job-1', namespace: 'demo' }, spec: { nodeName: 'worker-2', containers: [{}] }, status: { phase: 'Succeeded', containerStatuses: [{ ready: false, restartCount: 0, state: { terminated: { reason: 'Completed' } } }] } },
      { metadata: { name: 'gone', namespace: 'demo', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { nodeName: 'worker-3', containers: [{}] }, status: { phase: 'Running', containerStatuses: [{ ready: true }] } },
      { metadata: { name: 'pending', namespace: 'demo' }, spec: { containers: [{}] }, status: { phase: 'Pending' } },
    ];
    expect(podRows(pods).map((r) => [r.namespace, r.name, r.ready, r.status, r.restarts, r.node, r.ip])).toEqual([
      ['demo', 'gone', '1/1', 'Terminating', 0, 'worker-3', ''],
      ['demo', 'job-1', '0/1', 'Completed', 0, 'worker-2', ''],
      ['demo', 'pending', '0/1', 'Pending', 0, '', ''],
      ['demo', 'web-x', '1/2', 'CrashLoopBackOff', 3, 'worker-1', '10.244.12.5'],
      ['kube-system', 'coredns-1', '1/1', 'Running', 0, 'worker-2', '10.244.13.2'],
    ]);
  });
});

describe('kube in the shell, without a cluster to talk to', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rpl-kube-'));
    process.env.GREENRACE_STATE_DIR = join(dir, 'state');
    process.env.GREENRACE_RESULTS_DIR = join(dir, 'results');
  });
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(lines: string[]): Promise<string> {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d: Buffer) => (out += d.toString()));
    const p = runShell({ exp: 'quickstart', load: {}, input, output, terminal: false, historyFile: false });
    input.end(lines.join('\n') + '\n');
    expect(await p).toBe(0);
    return out;
  }

  function state(runtime: 'host' | 'k3s'): void {
    const st: ExperimentState = {
      version: 1,
      experiment: 'quickstart',
      phase: 'ready',
      platformKind: 'static',
      platform: { kind: 'static', data: {}, hosts: [{ name: 'c-1', address: '127.0.0.1', port: 22, user: 'root', roles: ['control'] }] },
      experimentSnapshot: { ...experimentSchema.parse({ name: 'quickstart' }), runtime },
      files: [],
      services: [],
      endpoints: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    writeState(join(dir, 'state', 'quickstart'), st);
  }

  it('is listed by help(), documents itself, is read-only, and says the experiment is not set up', async () => {
    rmSync(join(dir, 'state'), { recursive: true, force: true });
    const out = await run(['help()', "help('kube')", 'kube', 'kube = 1', 'kube.nodes()', "kube.pods({ labels: 'x' })", "kube.exec('p', '')"]);
    expect(out).toMatch(/\n {2}kube\s+a Kubernetes client \(@kubernetes\/client-node\) of the experiment's cluster/);
    expect(out).toContain("kube — a Kubernetes client (@kubernetes/client-node) of the experiment's cluster");
    expect(out).toContain("(await kube.apps()).readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' })");
    expect(out).toContain("kube: a Kubernetes client (@kubernetes/client-node) of quickstart's cluster\n  kube.nodes()");
    expect(out).toContain('error [repl.read_only] kube is read-only');
    expect(out).toContain('error [experiment.not_ready] experiment quickstart is not set up\nhint: run `entrypoint setup quickstart`');
    expect(out).toContain('error [repl.bad_argument] kube.pods(namespace? | { namespace?, selector? }): unknown option labels (namespace, selector)');
    expect(out).toContain('error [repl.bad_argument] kube.exec(pod, command, opts?): command must be a non-empty string (got an empty string)');
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('on runtime host: the experiment has no Kubernetes cluster, and how to get one', async () => {
    state('host');
    const out = await run(['kube.pods()', '(await kube.core())']);
    expect(out).toContain('error [k8s.no_cluster] experiment quickstart has no Kubernetes cluster (runtime: host)\nhint: set `runtime: k3s` in the experiment file and run setup again');
    expect(out.match(/k8s\.no_cluster/g)).toHaveLength(2);
  });

  it('on runtime k3s: no kubeconfig yet, then an API server that does not answer, named', async () => {
    state('k3s');
    const none = await run(['kube.nodes()']);
    expect(none).toContain('error [experiment.not_ready] experiment quickstart has no kubeconfig yet (state: ready)');
    // A port nothing listens on: the real client's connection error, naming the call and the server.
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    mkdirSync(join(dir, 'state', 'quickstart'), { recursive: true });
    writeFileSync(
      join(dir, 'state', 'quickstart', 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]`,
        'users: [{name: u, user: {token: not-a-secret}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const down = await run(['kube.nodes()', "kube.logs('hello')"]);
    expect(down).toMatch(new RegExp(`error \\[k8s\\.api\\] kube\\.nodes\\(\\): .*ECONNREFUSED.* \\(API server https://127\\.0\\.0\\.1:${port}\\)`));
    expect(down).toMatch(/error \[k8s\.logs\] cannot read the log of pod default\/hello: .*ECONNREFUSED/);
    expect(down).not.toContain('not-a-secret');
  });
});
