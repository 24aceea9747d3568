import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { nodeFacts, quantity } from '../../../src/runtimes/k8s/node-facts.js';

describe('Kubernetes quantities', () => {
  it('reads binary and decimal suffixes, millis and plain numbers', () => {
    expect(quantity('24567892Ki')).toBe(24567892 * 1024);
    expect(quantity('16Gi')).toBe(16 * 2 ** 30);
    expect(quantity('2')).toBe(2);
    expect(quantity('500m')).toBe(0.5);
    expect(quantity('1.5G')).toBe(1.5e9);
    expect(quantity('1e3')).toBe(1000);
  });
  it('is null for what is not a quantity', () => {
    expect(quantity(undefined)).toBeNull();
    expect(quantity('12 apples')).toBeNull();
    expect(quantity('3Zi')).toBeNull();
  });
});

describe('a node as the run record names it', () => {
  it('takes kernel, OS, versions, CPU and memory capacity and every label from the Node object', () => {
    const node: V1Node = {
      metadata: { name: 'worker-1', labels: { 'greenrace.io/role': 'worker', 'kubernetes.io/hostname': 'worker-1' } },
      status: {
        capacity: { cpu: '2', memory: '24567892Ki', pods: '110' },
        nodeInfo: {
          kernelVersion: '6.1.0-28-amd64', osImage: 'Debian GNU/Linux 12 (bookworm)', architecture: 'amd64', kubeletVersion: 'v1.34.12',
          containerRuntimeVersion: 'containerd://1.6.20', bootID: '', kubeProxyVersion: '', machineID: '', operatingSystem: 'linux', systemUUID: '',
        },
      },
    };
    expect(nodeFacts(node)).toEqual({
      name: 'worker-1',
      kernel: '6.1.0-28-amd64',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      architecture: 'amd64',
      kubelet: 'v1.34.12',
      containerRuntime: 'containerd://1.6.20',
      cpus: 2,
      memoryBytes: 24567892 * 1024,
      labels: { 'greenrace.io/role': 'worker', 'kubernetes.io/hostname': 'worker-1' },
    });
  });
  it('leaves what the node does not report as null', () => {
    expect(nodeFacts({ metadata: { name: 'n' } })).toMatchObject({ name: 'n', kernel: null, cpus: null, memoryBytes: null, labels: {} });
  });
});
