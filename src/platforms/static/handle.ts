/** The static platform's handle: the inventory's hosts, as a reservation hands them out. */
import type { PlatformHandle, ReserveRequest } from '../platform.js';
import { checkRoleMinimums, loadInventory, resolveInventoryPath, type StaticInventory } from './inventory.js';

export interface StaticHandleData {
  inventory: string;
  experiment: string;
  connectTimeout: number;
}

/** The inventory a request names (`--inventory`, else `platform.static.inventory`), with enough hosts per role. */
export function loadFor(req: ReserveRequest): StaticInventory {
  const file = resolveInventoryPath({
    ...(req.inventoryFile ? { override: req.inventoryFile } : {}),
    ...(req.experiment.platform.static.inventory ? { fromExperiment: req.experiment.platform.static.inventory } : {}),
    ...(req.experimentFile ? { experimentFile: req.experimentFile } : {}),
  });
  const inv = loadInventory(file);
  checkRoleMinimums(inv, req.roles);
  return inv;
}

export function handleOf(inv: StaticInventory, req: ReserveRequest): PlatformHandle {
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
