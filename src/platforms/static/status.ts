/** Reachability of existing hosts: a real `ssh ... true` to each, with the inventory's options. */
import type { HostStatus, PlatformHandle } from '../platform.js';
import type { StaticHandleData } from './handle.js';
import { probe } from './ssh.js';

const PARALLEL = 16;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export async function status(handle: PlatformHandle): Promise<HostStatus[]> {
  const d = handle.data as Partial<StaticHandleData>;
  const timeout = d.connectTimeout ?? 5;
  return mapLimit(handle.hosts, PARALLEL, async (h) => {
    const r = await probe(h, timeout);
    return { host: h.name, address: h.address, roles: [...h.roles], reachable: r.ok, detail: r.detail };
  });
}
