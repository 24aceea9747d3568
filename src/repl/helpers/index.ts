import type { HelperDef } from './types.js';
import { cfg, last, loadConfig } from './config.js';
import { fetch, hosts, sh } from './remote.js';
import { energy, query } from './metrics.js';

/** The helpers of the shell, in the order help() lists them. Only helpers whose app code exists are here. */
export function availableHelpers(): HelperDef[] {
  return [loadConfig, hosts, sh, fetch, query, energy, cfg, last];
}
