/** Reachability of the local platform's hosts: a real `ssh ... true` to each, with the experiment's key. */
import { existsSync } from 'node:fs';
import type { HostStatus, PlatformHandle } from '../platform.js';
import type { LocalHandleData } from './handle.js';
import { sshPaths } from './keys.js';
import { mapLimit, sleep } from './run.js';
import { sshTrue } from './sshd.js';

export async function status(handle: PlatformHandle): Promise<HostStatus[]> {
  const d = handle.data as Partial<LocalHandleData>;
  const stateDir = d.stateDir ?? '';
  const ssh = sshPaths(stateDir);
  // A busy 2-core machine can take seconds per handshake: 4 at a time, 5 s to connect.
  return mapLimit(handle.hosts, 4, async (h) => {
    const base = { host: h.name, address: h.address, roles: [...h.roles] };
    if (!existsSync(ssh.clientKey)) return { ...base, reachable: false, detail: `no SSH key at ${ssh.clientKey}` };
    let r = await sshTrue(ssh, h.address, 5);
    if (!r.ok) {
      // one more try: a handshake dropped by a momentarily overloaded machine is not a dead host
      await sleep(500);
      r = await sshTrue(ssh, h.address, 5);
    }
    return { ...base, reachable: r.ok, detail: r.detail };
  });
}

