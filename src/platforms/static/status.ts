/**
 * Reachability of existing hosts: a real `ssh ... true` to each, through the one SSH stack
 * (src/remote) with the inventory's own options first, as Ansible will use them; host keys never
 * seen before are accepted and remembered unless the inventory says otherwise.
 */
import { execMany, SshSession, targetFromHost } from '../../remote/index.js';
import type { HostStatus, PlatformHandle } from '../platform.js';
import type { StaticHandleData } from './handle.js';

const PARALLEL = 16;

export async function status(handle: PlatformHandle): Promise<HostStatus[]> {
  const d = handle.data as Partial<StaticHandleData>;
  const timeout = d.connectTimeout ?? 5;
  const session = new SshSession({ connectTimeoutS: timeout, persistSeconds: 5 });
  try {
    // a jump host adds its own connect: allow two timeouts plus slack
    const results = await execMany(handle.hosts.map((h) => targetFromHost(h)), 'true', {
      session,
      concurrency: PARALLEL,
      timeoutMs: (2 * timeout + 5) * 1000,
    });
    return handle.hosts.map((h, i) => {
      const r = results[i]!;
      const reachable = r.code === 0;
      const detail = reachable ? 'ssh ok' : (r.error?.message ?? (r.stderr.trim().split('\n').at(-1) || `ssh exit ${r.code ?? r.signal ?? '?'}`));
      return { host: h.name, address: h.address, roles: [...h.roles], reachable, detail };
    });
  } finally {
    await session.close();
  }
}
