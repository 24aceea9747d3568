/**
 * The static platform: hosts someone already owns, from an Ansible YAML inventory (hosts.yaml format).
 * The inventory decides the hosts; the experiment's role sizes are minimums. Nothing is created, so
 * nothing is released: the services on the hosts are destroyed by the app layer.
 */
import { PlatformError } from '../../core/errors.js';
import type { HostStatus, Platform, PlatformHandle, PlatformPlan, ReserveRequest } from '../platform.js';
import { checkRoleMinimums, loadInventory, resolveInventoryPath, type StaticInventory } from './inventory.js';
import { probe } from './ssh.js';

export interface StaticHandleData {
  inventory: string;
  experiment: string;
  connectTimeout: number;
}

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

function load(req: ReserveRequest): StaticInventory {
  const file = resolveInventoryPath({
    ...(req.inventoryFile ? { override: req.inventoryFile } : {}),
    ...(req.experiment.platform.static.inventory ? { fromExperiment: req.experiment.platform.static.inventory } : {}),
    ...(req.experimentFile ? { experimentFile: req.experimentFile } : {}),
  });
  const inv = loadInventory(file);
  checkRoleMinimums(inv, req.roles);
  return inv;
}

function handleOf(inv: StaticInventory, req: ReserveRequest): PlatformHandle {
  const data: StaticHandleData = {
    inventory: inv.file,
    experiment: req.experiment.name,
    connectTimeout: req.experiment.platform.static.connect_timeout,
  };
  return {
    kind: 'static',
    data: data as unknown as Record<string, unknown>,
    hosts: inv.hosts,
    ...(inv.controllerAddress ? { controllerAddress: inv.controllerAddress } : {}),
    // Keyed by host as well, so hosts that turn out to share a filesystem never collide.
    dataDirs: Object.fromEntries(inv.hosts.map((h) => [h.name, inv.dataDirs[h.name] ?? `/var/tmp/greenrace/${req.experiment.name}/${h.name}`])),
    sharedFilesystem: inv.sharedFilesystem,
  };
}

export class StaticPlatform implements Platform {
  readonly kind = 'static' as const;

  async plan(req: ReserveRequest): Promise<PlatformPlan> {
    const inv = load(req);
    const lines = [`platform static: ${inv.hosts.length} existing hosts from ${inv.file} (nothing is created or released)`];
    const w = Math.max(...inv.hosts.map((h) => h.name.length));
    for (const h of inv.hosts) {
      const jump = typeof h.vars?.ansible_ssh_common_args === 'string' && /ProxyJump=(\S+)/.exec(h.vars.ansible_ssh_common_args);
      lines.push(`  ${h.name.padEnd(w)}  ${h.user}@${h.address}:${h.port}  roles ${h.roles.join(',')}${jump ? `  via ${jump[1]}` : ''}`);
    }
    if (req.experiment.platform.static.check_reachability) lines.push(`setup checks every host over SSH first (timeout ${req.experiment.platform.static.connect_timeout} s)`);
    return { lines, hosts: inv.hosts };
  }

  async reserve(req: ReserveRequest): Promise<PlatformHandle> {
    const progress = req.progress ?? (() => {});
    const inv = load(req);
    const handle = handleOf(inv, req);
    if (!req.experiment.platform.static.check_reachability) {
      progress(`static: ${inv.hosts.length} hosts from ${inv.file} (reachability not checked)`);
      return handle;
    }
    progress(`static: checking SSH on ${inv.hosts.length} hosts from ${inv.file}`);
    const st = await this.status(handle);
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

  async status(handle: PlatformHandle): Promise<HostStatus[]> {
    const d = handle.data as Partial<StaticHandleData>;
    const timeout = d.connectTimeout ?? 5;
    return mapLimit(handle.hosts, PARALLEL, async (h) => {
      const r = await probe(h, timeout);
      return { host: h.name, address: h.address, roles: [...h.roles], reachable: r.ok, detail: r.detail };
    });
  }

  async release(_stateDir: string, handle?: PlatformHandle, progress: (line: string) => void = () => {}): Promise<void> {
    const n = handle?.hosts.length ?? 0;
    const inv = (handle?.data as Partial<StaticHandleData> | undefined)?.inventory;
    progress(`static: nothing to release${n ? `; ${n} hosts${inv ? ` of ${inv}` : ''} stay as they are` : ''}`);
  }
}
