import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFromEnv, scaledClock } from '../../../../src/platforms/g5k/clock.js';
import type { Clock } from '../../../../src/platforms/g5k/clock.js';
import { G5kPlatform } from '../../../../src/platforms/g5k/platform.js';
import type { SshTarget } from '../../../../src/platforms/g5k/ssh.js';
import { experimentSchema } from '../../../../src/experiment/schema.js';
import { splitArgs } from '../../../../src/core/shell.js';
import { nodeSshArgs, remoteTarget } from '../../../../src/platforms/g5k/ssh.js';
import { SshSession, ansibleControlPath } from '../../../../src/remote/index.js';
import { startDouble, steppedClock } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { api, experiment, PASSWORD, pubKey, tmp, USER } from './helpers.js';

describe('ssh arguments', () => {
  it("the inventory keeps the experiment's known_hosts (accept-new, never /dev/null), the jump, quoted once; no connection sharing", () => {
    expect(nodeSshArgs({ jump: 'alice@access.grid5000.fr', knownHosts: '/st/g5k_known_hosts' })).toBe(
      '-o UserKnownHostsFile=/st/g5k_known_hosts -o StrictHostKeyChecking=accept-new -o LogLevel=ERROR -o ProxyJump=alice@access.grid5000.fr',
    );
    expect(nodeSshArgs({ knownHosts: '/my state/kh' })).toBe("-o 'UserKnownHostsFile=/my state/kh' -o StrictHostKeyChecking=accept-new -o LogLevel=ERROR");
    expect(splitArgs(nodeSshArgs({ knownHosts: '/my state/kh' }))).toContain('UserKnownHostsFile=/my state/kh');
    expect(nodeSshArgs({})).not.toMatch(/Control|ProxyJump|\/dev\/null|StrictHostKeyChecking=no/);
  });

  it('g5k.user and g5k.gateway are a login and a host name: an option smuggled into them is refused', () => {
    const bad = (g5k: Record<string, unknown>): string => {
      const r = experimentSchema.safeParse({ name: 'inject', platform: { kind: 'g5k', g5k: { cluster: 'paravance', ...g5k } } });
      expect(r.success).toBe(false);
      return JSON.stringify(r.error?.issues);
    };
    expect(bad({ user: 'alice -o ProxyCommand=touch /tmp/pwned' })).toContain('a login');
    expect(bad({ gateway: 'gw -oProxyCommand=sh' })).toContain('a host name');
    expect(bad({ gateway: 'access.grid5000.fr;id' })).toContain('a host name');
    expect(experimentSchema.parse({ name: 'ok', platform: { kind: 'g5k', g5k: { cluster: 'paravance', user: 'j.doe-2', gateway: 'gw.example.org:2222' } } }).platform.g5k?.gateway).toBe(
      'gw.example.org:2222',
    );
  });

  it("own checks go through the SSH stack with the inventory's options and share Ansible's connection to the node", () => {
    const dir = join(tmp(), 'cp');
    const t = remoteTarget({ address: 'n1', user: 'root', keyFile: '/k', jump: 'alice@gw' });
    const a = new SshSession({ ansibleControlDir: dir, connectTimeoutS: 7 }).argv(t, 'true');
    expect(a).toContain(`ControlPath=${ansibleControlPath(dir, { address: 'n1', port: 22, user: 'root' })}`);
    expect(existsSync(dir)).toBe(true);
    expect(a).toContain('ProxyJump=alice@gw');
    expect(a).toContain('IdentitiesOnly=yes');
    expect(a).toContain('IdentityFile=/k');
    expect(a).toContain('ConnectTimeout=7');
    expect(a.join(' ')).not.toContain('/dev/null');
    expect(a.join(' ')).not.toContain('ProxyCommand');
  });
});

describe('clock for the double', () => {
  it('GREENRACE_G5K_TIME_SCALE=N runs now() N times faster and shortens sleeps N times', async () => {
    let t = 1000;
    const slept: number[] = [];
    const base: Clock = { now: () => t, sleep: async (s) => void slept.push(s) };
    const c = scaledClock(20, base);
    t += 3;
    expect(c.now()).toBe(1060);
    await c.sleep(10);
    expect(slept).toEqual([0.5]);
    expect(scaledClock(1, base)).toBe(base);
  });

  it('a bad value is a usage error naming the variable', () => {
    expect(() => clockFromEnv({ GREENRACE_G5K_TIME_SCALE: 'fast' })).toThrow(/GREENRACE_G5K_TIME_SCALE=fast/);
    expect(() => clockFromEnv({ GREENRACE_G5K_TIME_SCALE: '0' })).toThrow(/above 0/);
  });
});

describe('nodes mapped by address_map (the double on local hosts)', () => {
  let d: G5kDouble;
  beforeAll(async () => {
    d = await startDouble({ users: { [USER]: PASSWORD } });
  });
  afterAll(() => d.stop());

  it('mapped nodes are reached directly outside Grid\'5000, others through the gateway; data dirs in the state folder; a reattach skips nodes deployed in the same job', async () => {
    const probed: string[] = [];
    const checked: SshTarget[] = [];
    const mk = (): G5kPlatform =>
      new G5kPlatform({
        api: () => api(d),
        clock: steppedClock(d),
        inside: false,
        isDeployed: async (t) => (probed.push(t.address), false),
        sshCheck: async (t) => (checked.push(t), true),
      });
    const e = experiment(
      {
        cluster: 'paravance',
        api_url: d.url,
        public_key: pubKey(tmp()),
        user: USER,
        shared_filesystem: true,
        address_map: { 'paravance-1.rennes.grid5000.fr': '10.99.0.11', 'paravance-2': '10.99.0.12' },
      },
      { control: 1, broker: 1, worker: 1 },
      'mapped',
    );
    const stateDir = tmp();
    const deploymentsBefore = d.deployments.length;
    const h = await mk().reserve({ experiment: e, roles: e.roles, stateDir });
    expect(h.hosts.map((x) => [x.name, x.address])).toEqual([
      ['paravance-1', '10.99.0.11'],
      ['paravance-2', '10.99.0.12'],
      ['paravance-3', 'paravance-3.rennes.grid5000.fr'],
    ]);
    // a mapped node is still its node: the machine is the fqdn, not the mapped address
    expect(h.hosts.map((x) => x.machine)).toEqual(['paravance-1.rennes.grid5000.fr', 'paravance-2.rennes.grid5000.fr', 'paravance-3.rennes.grid5000.fr']);
    expect(h.hosts.map((x) => /ProxyJump=alice@access.grid5000.fr/.test(String(x.vars?.ansible_ssh_common_args)))).toEqual([false, false, true]);
    expect(h.dataDirs).toEqual(Object.fromEntries(h.hosts.map((x) => [x.name, join(stateDir, 'hosts', x.name)])));
    expect(checked.every((t) => t.controlDir !== undefined)).toBe(true);
    expect(checked.find((t) => t.address === '10.99.0.11')?.jump).toBeUndefined();
    expect(checked.find((t) => t.address === 'paravance-3.rennes.grid5000.fr')?.jump).toBe('alice@access.grid5000.fr');
    expect(d.deployments.length - deploymentsBefore).toBe(1);

    probed.length = 0;
    await mk().reserve({ experiment: e, roles: e.roles, stateDir }, h);
    expect(d.deployments.length - deploymentsBefore).toBe(1);
    expect(probed).toEqual([]);

    // `jump: always` sends even mapped nodes through the gateway.
    const always = experiment({ ...e.platform.g5k!, jump: 'always' }, { control: 1, broker: 1, worker: 1 }, 'mapped');
    const h2 = await mk().reserve({ experiment: always, roles: always.roles, stateDir }, h);
    expect(h2.hosts.map((x) => x.address)).toEqual(h.hosts.map((x) => x.address));
    expect(h2.hosts.every((x) => /ProxyJump=alice@access.grid5000.fr/.test(String(x.vars?.ansible_ssh_common_args)))).toBe(true);
  });
});
