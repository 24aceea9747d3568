/** A throwaway experiment state folder whose hosts are this machine (connection local) plus one unreachable host. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inventoryPath, writeAnsibleCfg } from '../../../src/ansible/config.js';
import { buildInventory, inventoryYaml } from '../../../src/ansible/inventory.js';
import type { Host } from '../../../src/core/types.js';

export function localHost(name: string, role: Host['roles'][number]): Host {
  return { name, address: '127.0.0.1', port: 22, user: 'root', roles: [role], vars: { ansible_connection: 'local' } };
}

export function makeState(hosts: Host[]): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gr-app-ansible-'));
  const inv = buildInventory({
    experiment: 'apptest',
    stateDir: dir,
    hosts,
    dataDirs: Object.fromEntries(hosts.map((h) => [h.name, join(dir, 'hosts', h.name)])),
    sharedFilesystem: true,
    controllerAddress: '127.0.0.1',
  });
  writeFileSync(inventoryPath(dir), inventoryYaml(inv));
  writeAnsibleCfg({ stateDir: dir, hostCount: hosts.length, timeout: 3 });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Port 1 on loopback: refused at once, so Ansible reports the host unreachable quickly. */
export const unreachableHost = (name: string): Host => ({ name, address: '127.0.0.1', port: 1, user: 'root', roles: ['worker'] });

export const fixturePlaybook = (name: string): string => join(import.meta.dirname, '..', '..', 'fixtures', 'ansible', 'playbooks', name);
