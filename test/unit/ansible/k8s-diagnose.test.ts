// The k8s role's diagnosis of a cluster that did not come up, run by the real ansible-playbook on
// this machine (connection local) against a fake kubectl and fake program logs: the one error a user
// gets names the wait that gave up, each node in trouble and why, and shows the logs that explain it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../../src/ansible/runner.js';
import { AnsibleError } from '../../../src/core/errors.js';
import { fixturePlaybook, localHost, makeState } from './local-state.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

const NODES = {
  items: [
    { metadata: { name: 'control-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    {
      metadata: { name: 'worker-1' },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'cni plugin not initialized' }] },
    },
  ],
};

describe('k8s role: why the cluster did not come up', { timeout: 180_000 }, () => {
  it('names the wait that gave up, the nodes missing or not Ready and why, with the kubelet and control-plane log tails', async () => {
    const s = makeState([localHost('l1', 'control'), localHost('l2', 'worker')]);
    cleanups.push(s.cleanup);
    const kubectl = join(s.dir, 'kubectl');
    writeFileSync(join(s.dir, 'nodes.json'), JSON.stringify(NODES));
    writeFileSync(
      kubectl,
      `#!/bin/sh\ncase "$*" in\n  *"get nodes"*) cat ${join(s.dir, 'nodes.json')} ;;\n  *"get pods"*) echo "kube-system coredns-1 0/1 Pending" ;;\n  *) echo "kube-system Warning FailedScheduling no nodes available" ;;\nesac\n`,
    );
    chmodSync(kubectl, 0o755);
    const conf = join(s.dir, 'conf');
    for (const h of ['l1', 'l2']) mkdirSync(join(conf, h), { recursive: true });
    writeFileSync(join(conf, 'l2', 'k8s-kubelet.log'), 'E1203 kubelet on l2: the last word of worker kubelet\n');
    writeFileSync(join(conf, 'l1', 'k8s-controller-manager.log'), 'E1203 "command failed" err="configmaps is forbidden"\n');
    writeFileSync(join(conf, 'l1', 'k8s-scheduler.log'), 'I1203 scheduler serving\n');

    const err = (await runPlaybook({
      stateDir: s.dir,
      playbook: fixturePlaybook('k8s-diagnose.yml'),
      extraVars: { gr_fake_kubectl: kubectl, gr_fake_conf_dir: conf },
    }).catch((e) => e)) as AnsibleError;
    expect(err).toBeInstanceOf(AnsibleError);
    // The error is the diagnosis, not the wait its rescue handled.
    expect(err.message).toMatch(/task "k8s : Say why the cluster did not come up" failed on l1/);
    const text = err.details.join('\n');
    expect(text).toContain('the cluster did not come up: "Wait until every node has registered" gave up');
    expect(text).toContain('node worker-1 (host l2): not Ready: KubeletNotReady (cni plugin not initialized)');
    expect(text).toContain('node worker-2 (host l2): never registered with the API server');
    expect(text).not.toContain('node control-1');
    // The whole diagnosis is in the playbook's log: pods, events, the control plane's and the kubelets' last lines.
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(err.logFile!, 'utf8');
    expect(log).toContain('coredns-1 0/1 Pending');
    expect(log).toContain('FailedScheduling');
    expect(log).toContain('configmaps is forbidden');
    expect(log).toContain('the last word of worker kubelet');
  });
});
