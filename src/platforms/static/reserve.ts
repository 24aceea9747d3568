/** "Reserving" existing hosts: read the inventory, check each host answers over SSH (unless told not to). */
import { PlatformError } from '../../core/errors.js';
import type { PlatformHandle, ReserveRequest } from '../platform.js';
import { handleOf, loadFor } from './handle.js';
import { status } from './status.js';

export async function reserve(req: ReserveRequest): Promise<PlatformHandle> {
  const progress = req.progress ?? (() => {});
  const inv = loadFor(req);
  const handle = handleOf(inv, req);
  if (!req.experiment.platform.static.check_reachability) {
    progress(`static: ${inv.hosts.length} hosts from ${inv.file} (reachability not checked)`);
    return handle;
  }
  progress(`static: checking SSH on ${inv.hosts.length} hosts from ${inv.file}`);
  const st = await status(handle);
  const bad = st.filter((s) => !s.reachable);
  if (bad.length) {
    throw new PlatformError(
      'platform.static.unreachable',
      `${bad.length} of ${st.length} hosts do not answer over SSH: ${bad.map((b) => b.host).join(', ')} (inventory ${inv.file})`,
      { hosts: bad.map((b) => b.host), details: bad.map((b) => `${b.host} (${b.address}): ${b.detail ?? 'no answer'}`) },
    );
  }
  progress(`static: ${inv.hosts.length} hosts answer over SSH`);
  return handle;
}

/** The inventory's hosts as a handle, checking nothing (killjob after the state folder was lost). */
export async function recover(req: ReserveRequest): Promise<PlatformHandle> {
  return handleOf(loadFor(req), req);
}
