import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { metadataDir } from '../ansible/config.js';

/** What setup.yml saves per host in `<state>/metadata/<host>.json` (from Ansible facts). */
export interface HostMetadata {
  name: string;
  hostname: string;
  fqdn: string;
  roles: string[];
  address: string;
  default_ipv4: string;
  cpu_model: string;
  cpu_sockets: number;
  cpu_cores: number;
  cpu_threads: number;
  memory_mb: number;
  kernel: string;
  os: string;
  architecture: string;
  service_manager: string;
  python: string;
  virtualization: string;
  interfaces: Array<{ name: string; ipv4: string; ipv4_prefix: string; mac: string; mtu: number; speed_mbps: number; type: string; active: boolean }>;
}

/** Every host's metadata, by inventory name (hosts whose file is missing or unreadable are left out). */
export function readMetadata(stateDir: string): Record<string, HostMetadata> {
  const dir = metadataDir(stateDir);
  const out: Record<string, HostMetadata> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    try {
      const m = JSON.parse(readFileSync(join(dir, f), 'utf8')) as HostMetadata;
      out[m.name ?? f.replace(/\.json$/, '')] = m;
    } catch {
      /* a half-written file from an interrupted run: skipped */
    }
  }
  return out;
}
