import type { HelperDef } from './types.js';
import { cfg, last, loadConfig } from './config.js';
import { fetch, hosts, sh } from './remote.js';
import { energy, query } from './metrics.js';
import { p } from './playbook.js';
import { k } from './kube.js';
import { kube } from './kube-client.js';
import { killjob, status } from './lifecycle.js';
import { ingest, net, race } from './runs.js';

/** The helpers of the shell, in the order help() lists them. Only helpers whose app code exists are here. */
export function availableHelpers(): HelperDef[] {
  return [loadConfig, p, hosts, sh, k, kube, fetch, query, energy, ingest, race, net, status, killjob, cfg, last];
}
