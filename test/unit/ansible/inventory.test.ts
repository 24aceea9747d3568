import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { buildInventory, inventoryHosts, inventoryYaml } from '../../../src/ansible/inventory.js';
import { sshCommonArgs } from '../../../src/core/ssh-options.js';
import type { Host } from '../../../src/core/types.js';

const host = (name: string, roles: Host['roles'], extra: Partial<Host> = {}): Host => ({
  name,
  address: `10.99.0.${10 + name.length}`,
  port: 22,
  user: 'root',
  roles,
  ...extra,
});

describe('inventory', () => {
  const hosts: Host[] = [
    host('c1', ['control'], { keyFile: '/st/ssh/id', vars: { gr_known_hosts: '/st/ssh/known hosts', gr_netns: 'ns-c1' } }),
    host('b1', ['broker'], { port: 2222, user: 'debian' }),
    host('w1', ['worker'], { vars: { gr_jump: 'alice@access.grid5000.fr' } }),
    host('w2', ['worker', 'broker']),
  ];
  const inv = buildInventory({
    experiment: 'app-inv',
    stateDir: '/st',
    hosts,
    dataDirs: { c1: '/st/hosts/c1', b1: '/data/b1', w1: '/st/hosts/w1', w2: '/st/hosts/w2' },
    sharedFilesystem: true,
    controllerAddress: '10.99.0.1',
  });

  it('has the hosts.yaml shape: all.children.{control,broker,worker}.hosts and all.vars', () => {
    const doc = yaml.load(inventoryYaml(inv)) as typeof inv;
    expect(Object.keys(doc.all.children)).toEqual(['control', 'broker', 'worker']);
    expect(doc.all.vars).toEqual({
      ansible_python_interpreter: '/usr/bin/python3',
      gr_experiment: 'app-inv',
      gr_state_dir: '/st',
      gr_shared_fs: true,
      gr_controller_address: '10.99.0.1',
    });
    expect(inventoryHosts(doc)).toEqual({ control: ['c1'], broker: ['b1', 'w2'], worker: ['w1', 'w2'] });
  });

  it('gives each host its address, user, port, key and data folder', () => {
    expect(inv.all.children.broker.hosts.b1).toEqual({ ansible_host: '10.99.0.12', ansible_user: 'debian', ansible_port: 2222, gr_data_dir: '/data/b1' });
    const c1 = inv.all.children.control.hosts.c1!;
    expect(c1.ansible_ssh_private_key_file).toBe('/st/ssh/id');
    expect(c1.gr_netns).toBe('ns-c1');
    expect(c1.gr_data_dir).toBe('/st/hosts/c1');
  });

  it('turns known_hosts and jump hosts into ssh arguments, quoted', () => {
    expect(inv.all.children.control.hosts.c1!.ansible_ssh_common_args).toBe("-o UserKnownHostsFile='/st/ssh/known hosts' -o StrictHostKeyChecking=yes");
    expect(inv.all.children.worker.hosts.w1!.ansible_ssh_common_args).toBe('-o ProxyJump=alice@access.grid5000.fr');
    expect(inv.all.children.worker.hosts.w1!).not.toHaveProperty('gr_jump');
  });

  it('keeps ssh arguments a platform wrote itself and does not add a second known_hosts', () => {
    const h = host('x', ['worker'], { vars: { ansible_ssh_common_args: '-o UserKnownHostsFile=/k -o StrictHostKeyChecking=yes', gr_known_hosts: '/other' } });
    expect(sshCommonArgs(h)).toBe('-o UserKnownHostsFile=/k -o StrictHostKeyChecking=yes');
  });

  it('lists a host with two roles in both groups with the same variables', () => {
    expect(inv.all.children.worker.hosts.w2).toEqual(inv.all.children.broker.hosts.w2);
  });

  it('keeps empty groups (plays on them match nothing) and omits the controller address when unknown', () => {
    const only = buildInventory({ experiment: 'e', stateDir: '/s', hosts: [host('w', ['worker'])], dataDirs: {}, sharedFilesystem: false });
    expect(only.all.children.control.hosts).toEqual({});
    expect(only.all.vars).not.toHaveProperty('gr_controller_address');
    expect(only.all.children.worker.hosts.w).not.toHaveProperty('gr_data_dir');
    expect(inventoryYaml(only)).toContain('control:\n      hosts: {}');
  });

  it('refuses two hosts with one name', () => {
    expect(() => buildInventory({ experiment: 'e', stateDir: '/s', hosts: [host('a', ['worker']), host('a', ['broker'])], dataDirs: {}, sharedFilesystem: false })).toThrow(/two hosts are named a/);
  });
});
