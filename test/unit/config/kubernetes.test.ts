/** `runtime: k3s` and its `kubernetes` section: defaults per platform, refusals naming file and key. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { clusterSpec, distributionOf } from '../../../src/experiment/kubernetes.js';
import { loadExperiment } from '../../../src/experiment/load.js';
import { nodeRows } from '../../../src/app/kubernetes.js';

let home: string;
const prevHome = process.env.GREENRACE_HOME;

function write(name: string, text: string): void {
  writeFileSync(join(home, 'experiments', `${name}.yaml`), text);
}

function loadError(ref: string): ConfigError {
  try {
    loadExperiment(ref);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`loading ${ref} did not fail`);
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'gr-k8s-config-'));
  mkdirSync(join(home, 'experiments'));
  writeFileSync(join(home, 'hosts.yaml'), 'all:\n  hosts:\n    h1: {ansible_host: 10.0.0.1}\n  children:\n    control: {hosts: {h1: {}}}\n');
  process.env.GREENRACE_HOME = home;
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  if (prevHome === undefined) delete process.env.GREENRACE_HOME;
  else process.env.GREENRACE_HOME = prevHome;
});

describe('runtime: k3s', () => {
  it('the shipped k8s-local sample is the upstream cluster on 4 local hosts', () => {
    const { experiment } = loadExperiment('k8s-local');
    expect(experiment.runtime).toBe('k3s');
    expect(experiment.platform.kind).toBe('local');
    expect(experiment.roles).toEqual({ control: 1, broker: 0, worker: 3 });
    expect(distributionOf(experiment)).toBe('upstream');
    expect(clusterSpec(experiment)?.vars).toEqual({ gr_k8s_distribution: 'upstream', k8s_schedule_on_control: false, k8s_coredns_replicas: 1 });
  });

  it('defaults to upstream on the local platform and to k3s on static hosts', () => {
    write('loc', 'platform: {kind: local}\nruntime: k3s\n');
    expect(distributionOf(loadExperiment('loc').experiment)).toBe('upstream');
    write('st', `platform: {kind: static, static: {inventory: ${join(home, 'hosts.yaml')}}}\nruntime: k3s\nkubernetes: {k3s: {version: v1.34.2+k3s1}}\n`);
    const { experiment } = loadExperiment('st');
    expect(distributionOf(experiment)).toBe('k3s');
    expect(clusterSpec(experiment, '/exp')?.vars).toMatchObject({ gr_k8s_distribution: 'k3s', k3s_version: 'v1.34.2+k3s1', k3s_flannel_backend: 'vxlan' });
  });

  it('resolves airgap files against the experiment folder', () => {
    write('ag', `platform: {kind: static, static: {inventory: ${join(home, 'hosts.yaml')}}}\nruntime: k3s\nkubernetes: {k3s: {version: v1.34.2+k3s1, airgap: {binary: bin/k3s, install_script: /srv/install.sh}}}\n`);
    expect(clusterSpec(loadExperiment('ag').experiment, '/exp')?.vars).toMatchObject({ k3s_airgap_binary: '/exp/bin/k3s', k3s_airgap_install_script: '/srv/install.sh' });
  });

  it('refuses a distribution the platform cannot run, naming the file and the key', () => {
    write('bad', 'platform: {kind: local}\nruntime: k3s\nkubernetes: {distribution: k3s, k3s: {version: v1.34.2+k3s1}}\n');
    const e = loadError('bad');
    expect(e.message).toContain('bad.yaml');
    expect(e.message).toContain('kubernetes.distribution: the local platform cannot run k3s');
    expect(e.message).toContain('it can run: upstream');
    expect(e.exitCode).toBe(2);
  });

  it('refuses k3s without a pinned version, and versions that are not pinned 1.34 releases', () => {
    write('nov', `platform: {kind: static, static: {inventory: ${join(home, 'hosts.yaml')}}}\nruntime: k3s\n`);
    expect(loadError('nov').message).toContain('kubernetes.k3s.version: is required with distribution k3s');
    for (const v of ['stable', 'v1.33.5+k3s1', 'v1.34.2', 'latest']) {
      write('pin', `platform: {kind: static, static: {inventory: ${join(home, 'hosts.yaml')}}}\nruntime: k3s\nkubernetes: {k3s: {version: "${v}"}}\n`);
      expect(loadError('pin').message).toContain('kubernetes.k3s.version: a pinned k3s release of Kubernetes 1.34');
    }
  });

  it('refuses kubernetes options on runtime: host, and k3s options on the upstream distribution', () => {
    write('host', 'runtime: host\nkubernetes: {schedule_on_control: true}\n');
    expect(loadError('host').message).toContain('kubernetes: applies to runtime: k3s only (runtime is host)');
    write('up', 'platform: {kind: local}\nruntime: k3s\nkubernetes: {k3s: {flannel_backend: host-gw}}\n');
    expect(loadError('up').message).toContain('kubernetes.k3s: applies to distribution k3s only');
  });
});

describe('status rows of the nodes', () => {
  it('reads Ready, the role label, the kubelet version, the pod CIDR and the address from kubectl get nodes -o json', () => {
    const json = JSON.stringify({
      items: [
        {
          metadata: { name: 'worker-1', labels: { 'greenrace.io/role': 'worker' } },
          spec: { podCIDR: '10.244.12.0/24' },
          status: {
            conditions: [{ type: 'Ready', status: 'False', message: 'container runtime network not ready' }],
            nodeInfo: { kubeletVersion: 'v1.34.12' },
            addresses: [{ type: 'InternalIP', address: '10.77.1.12' }, { type: 'Hostname', address: 'worker-1' }],
          },
        },
        {
          metadata: { name: 'control-1', labels: { 'greenrace.io/role': 'control' } },
          spec: { podCIDR: '10.244.11.0/24' },
          status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.34.12' }, addresses: [{ type: 'InternalIP', address: '10.77.1.11' }] },
        },
      ],
    });
    expect(nodeRows(json)).toEqual([
      { name: 'control-1', ready: true, role: 'control', kubelet: 'v1.34.12', podCIDR: '10.244.11.0/24', address: '10.77.1.11' },
      { name: 'worker-1', ready: false, reason: 'container runtime network not ready', role: 'worker', kubelet: 'v1.34.12', podCIDR: '10.244.12.0/24', address: '10.77.1.12' },
    ]);
  });
});
