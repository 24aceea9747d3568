import { describe, expect, it } from 'vitest';
import { parseJumpSpec, sshOptions, targetFromHost } from '../../../src/remote/target.js';
import { splitArgs } from '../../../src/core/shell.js';
import type { Host } from '../../../src/core/types.js';

const host = (vars: Host['vars'] = {}): Host => ({ name: 'w1', address: '10.77.0.11', port: 22, user: 'root', roles: ['worker'], vars });

describe('SSH targets from inventory hosts', () => {
  it('takes address, port, user and key file from the host', () => {
    const t = targetFromHost({ ...host(), port: 2022, user: 'alice', keyFile: '/k/id' }, { knownHostsFile: '/s/known_hosts' });
    expect(t).toMatchObject({ name: 'w1', address: '10.77.0.11', port: 2022, user: 'alice', keyFile: '/k/id', knownHostsFile: '/s/known_hosts' });
  });

  it('reads UserKnownHostsFile and StrictHostKeyChecking from ansible_ssh_common_args', () => {
    const t = targetFromHost(host({ ansible_ssh_common_args: '-o UserKnownHostsFile=/st/ssh/known_hosts -o StrictHostKeyChecking=yes' }));
    expect(t.knownHostsFile).toBe('/st/ssh/known_hosts');
    expect(t.strictHostKeyChecking).toBe(true);
  });

  it('turns ProxyJump and -J into a jump host (the Grid\'5000 access gateway)', () => {
    const t = targetFromHost(host({ ansible_ssh_common_args: '-o ProxyJump=jdoe@access.grid5000.fr' }));
    expect(t.jump).toMatchObject({ address: 'access.grid5000.fr', user: 'jdoe', port: 22 });
    const t2 = targetFromHost(host({ ansible_ssh_common_args: "-J 'bob@gw.example:2222'" }));
    expect(t2.jump).toMatchObject({ address: 'gw.example', user: 'bob', port: 2222 });
  });

  it('honours the inventory helper variables gr_known_hosts and gr_jump', () => {
    const t = targetFromHost(host({ gr_known_hosts: '/st/kh', gr_jump: 'jdoe@access.grid5000.fr:22' }));
    expect(t).toMatchObject({ knownHostsFile: '/st/kh', strictHostKeyChecking: true, jump: { address: 'access.grid5000.fr', user: 'jdoe' } });
  });

  it('parses quoted argument strings and jump specs', () => {
    expect(splitArgs(`-o "ProxyCommand=ssh -W %h:%p gw" -oBatchMode=yes`)).toEqual(['-o', 'ProxyCommand=ssh -W %h:%p gw', '-oBatchMode=yes']);
    expect(sshOptions(['-oBatchMode=yes']).get('batchmode')).toBe('yes');
    expect(parseJumpSpec('[::1]:2200', { user: 'u' })).toMatchObject({ address: '::1', port: 2200, user: 'u' });
  });
});

describe('connections shared with Ansible', () => {
  it("names control sockets exactly as Ansible's ssh plugin does", async () => {
    const { execFileSync } = await import('node:child_process');
    const { ansibleControlPath } = await import('../../../src/remote/session.js');
    const py = execFileSync(
      '/usr/bin/python3',
      ['-c', "from ansible.plugins.connection.ssh import Connection as C; print(C._create_control_path('10.77.0.11', 2222, 'root') % {'directory': '/cp'})"],
      { encoding: 'utf8' },
    ).trim();
    expect(ansibleControlPath('/cp', { address: '10.77.0.11', port: 2222, user: 'root' })).toBe(py);
  });

  it('passes the inventory options to ssh in Ansible order, with the shared socket', async () => {
    const { SshSession, ansibleControlPath } = await import('../../../src/remote/session.js');
    const s = new SshSession({ ansibleControlDir: '/tmp/gr-cp-test' });
    const argv = s.argv(targetFromHost(host({ ansible_ssh_common_args: '-o ProxyJump=jdoe@gw -o UserKnownHostsFile=/kh' })), 'true');
    expect(argv).toContain('ProxyJump=jdoe@gw');
    expect(argv).not.toContainEqual(expect.stringMatching(/^ProxyCommand=/));
    expect(argv).toContain(`ControlPath=${ansibleControlPath('/tmp/gr-cp-test', { address: '10.77.0.11', port: 22, user: 'root' })}`);
    expect(argv.slice(-3)).toEqual(['10.77.0.11', '--', 'true']);
  });
});
