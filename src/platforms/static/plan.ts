/** `setup --dry-run` on the static platform: the inventory's hosts, how they are reached, which machine each is. */
import type { PlatformPlan, ReserveRequest } from '../platform.js';
import { loadFor } from './handle.js';

export async function plan(req: ReserveRequest): Promise<PlatformPlan> {
  const inv = loadFor(req);
  const lines = [`platform static: ${inv.hosts.length} existing hosts from ${inv.file} (nothing is created or released)`];
  const w = Math.max(...inv.hosts.map((h) => h.name.length));
  for (const h of inv.hosts) {
    const jump = typeof h.vars?.ansible_ssh_common_args === 'string' && /ProxyJump=(\S+)/.exec(h.vars.ansible_ssh_common_args);
    const machine = h.machine && h.machine !== h.address ? `  machine ${h.machine}` : '';
    lines.push(`  ${h.name.padEnd(w)}  ${h.user}@${h.address}:${h.port}  roles ${h.roles.join(',')}${jump ? `  via ${jump[1]}` : ''}${machine}`);
  }
  if (req.experiment.platform.static.check_reachability) lines.push(`setup checks every host over SSH first (timeout ${req.experiment.platform.static.connect_timeout} s)`);
  return { lines, hosts: inv.hosts, sharedFilesystem: inv.sharedFilesystem };
}
