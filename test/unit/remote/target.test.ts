import { describe, expect, it } from 'vitest';
import { parseJumpSpec, splitArgs, sshOptions, targetFromHost } from '../../../src/remote/target.js';
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
