import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostOfNode, podServer, waitForServer } from '../../../src/workloads/net/k8s.js';
import { tool } from '../../../src/workloads/net/tools/registry.js';
import type { NetParams } from '../../../src/workloads/net/tools/driver.js';

const p: NetParams = { tool: 'iperf3', protocol: 'tcp', streams: 2, duration: 5, reverse: true, port: 5201, omit: 2, bitrate: '1G', messageSize: 1400 };

describe('net on Kubernetes: commands', () => {
  it('the iperf3 server pod listens on every address and stays up; the client carries the seed parameters (parallel, reverse, bitrate, length, time, omit)', () => {
    expect(podServer(tool('iperf3'), p)).toEqual(['iperf3', '-s', '-p', '5201']);
    const c = tool('iperf3').driver!.clientCommand(p, { server: {} as never, client: {} as never, serverAddress: 'srv.greenrace.svc', clientDir: '/tmp' });
    expect(c).toBe('iperf3 -c srv.greenrace.svc -p 5201 -J -t 5 -P 2 -l 1400 -b 1G -R -O 2');
    expect(tool('iperf3').driver!.clientCommand({ ...p, protocol: 'udp', bitrate: undefined, omit: undefined, reverse: false, streams: 1 } as NetParams, { serverAddress: 'x' } as never)).toBe('iperf3 -c x -p 5201 -J -t 5 -u -l 1400 -b 0');
  });

  it('uperf is refused with the reason (no binary obtainable here), before anything is applied', () => {
    expect(() => podServer(tool('uperf'), { ...p, tool: 'uperf' })).toThrow(/uperf cannot run on runtime k3s: no uperf binary can be had/);
  });

  it('the wait for the server gives up with exit 111 and says so when nothing answers', () => {
    let code = 0;
    let err = '';
    try {
      execFileSync('sh', ['-c', waitForServer('127.0.0.1', 1, 1)], { stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(code).toBe(111);
    expect(err).toContain('the server 127.0.0.1:1 did not answer within 1 s');
  });

  it('a pod names its host by node name, or a host made from the pod when the node is not one of the experiment', () => {
    const hosts = [{ name: 'worker-1', address: '10.0.0.2', port: 22, user: 'root', roles: ['worker' as const], dataDir: '/d' }];
    expect(hostOfNode(hosts, { spec: { nodeName: 'worker-1' } })).toBe(hosts[0]);
    expect(hostOfNode(hosts, { spec: { nodeName: 'node-9' }, status: { hostIP: '10.0.0.9' } })).toMatchObject({ name: 'node-9', address: '10.0.0.9', roles: [] });
  });
});
