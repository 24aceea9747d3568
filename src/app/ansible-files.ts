import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../experiment/schema.js';
import { inventoryPath, metadataDir, writeAnsibleCfg } from '../ansible/config.js';
import { buildInventory, inventoryYaml, type Inventory } from '../ansible/inventory.js';
import { writeFileAtomic } from '../core/files.js';
import type { PlatformHandle } from '../platforms/platform.js';
import type { ServicePlan } from '../services/registry.js';

/** The inventory of a platform handle. */
export function inventoryOf(experiment: string, stateDir: string, handle: PlatformHandle): Inventory {
  return buildInventory({
    experiment,
    stateDir,
    hosts: handle.hosts,
    dataDirs: handle.dataDirs,
    sharedFilesystem: handle.sharedFilesystem,
    controllerAddress: handle.controllerAddress,
  });
}

/** Write `<state>/inventory.yaml` and `<state>/ansible.cfg` for a handle; drop metadata of hosts that are gone. */
export function writeAnsibleFiles(experiment: string, stateDir: string, handle: PlatformHandle): Inventory {
  const inv = inventoryOf(experiment, stateDir, handle);
  writeFileAtomic(inventoryPath(stateDir), inventoryYaml(inv));
  writeAnsibleCfg({ stateDir, hostCount: handle.hosts.length });
  const md = metadataDir(stateDir);
  if (existsSync(md)) {
    const names = new Set(handle.hosts.map((h) => h.name));
    for (const f of readdirSync(md)) if (f.endsWith('.json') && !names.has(f.slice(0, -5))) rmSync(join(md, f), { force: true });
  }
  return inv;
}

/** Extra-vars of setup.yml / destroy.yml. */
export function serviceExtraVars(experiment: Experiment, plan: ServicePlan, opts: { connectTimeout?: number } = {}): Record<string, unknown> {
  return {
    ...plan.roleVars,
    gr_config: experiment,
    gr_services: plan.services,
    gr_service_hosts: plan.hostPatterns,
    gr_service_ports: plan.ports,
    gr_scrape_jobs: plan.scrapeJobs,
    gr_endpoints: plan.endpoints,
    gr_connect_timeout: opts.connectTimeout ?? 60,
  };
}
