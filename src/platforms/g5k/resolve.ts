import { ConfigError } from '../../core/errors.js';
import type { G5kApi } from './api.js';
import { G5kApiError } from './api.js';
import { ROLES } from '../../core/types.js';
import type { RoleSizes } from '../../core/types.js';
import type { PlatformExperiment } from '../platform.js';
import type { G5kPlatformConfig } from './schema.js';
import { g5kPlatformSchema } from './schema.js';
import type { JobOptions, RolePlacement } from './oar.js';
import { normaliseWalltime } from './oar.js';
import { clusterOfNode, clusterPreset, fqdnOf, siteOfFqdn } from './presets.js';

/** What the reference API says about a cluster that has no preset. */
export interface ClusterInfo {
  site: string;
  exotic: boolean;
  queue?: JobOptions['queue'];
}

export type ClusterLookup = (cluster: string, site: string | undefined) => Promise<ClusterInfo>;

export interface Resolved {
  config: G5kPlatformConfig;
  placements: RolePlacement[];
  job: JobOptions;
  /** Clusters neither in the presets nor looked up (plan only). */
  unresolved: string[];
}

export function g5kConfig(exp: PlatformExperiment): G5kPlatformConfig {
  return exp.platform.g5k ?? g5kPlatformSchema.parse({});
}

export function defaultJobName(exp: PlatformExperiment): string {
  return `greenrace-${exp.name}`;
}

/**
 * Turn the experiment's roles and `platform.g5k` into placements (site, cluster, nodes per role) and
 * job options. Clusters without a preset go to `lookup` (the reference API); without `lookup` (plan)
 * their site is `site` from the config, else left unresolved.
 */
export async function resolveRequest(exp: PlatformExperiment, roles: RoleSizes, lookup?: ClusterLookup): Promise<Resolved> {
  const g = g5kConfig(exp);
  const key = (k: string): string => `platform.g5k.${k}`;
  const info = new Map<string, ClusterInfo | undefined>();
  const unresolved: string[] = [];
  const clusterInfo = async (cluster: string): Promise<ClusterInfo | undefined> => {
    if (info.has(cluster)) return info.get(cluster);
    const p = clusterPreset(cluster);
    let ci: ClusterInfo | undefined;
    if (p) {
      if (g.site && g.site !== p.site && cluster === g.cluster)
        throw new ConfigError('config.invalid', `${key('site')}: is ${g.site} but cluster ${cluster} is at ${p.site}`, { path: key('site') });
      ci = { site: p.site, exotic: p.exotic, queue: p.queue };
    } else if (lookup) ci = await lookup(cluster, g.site);
    else if (g.site) ci = { site: g.site, exotic: false };
    else unresolved.push(cluster);
    info.set(cluster, ci);
    return ci;
  };
  const placements: RolePlacement[] = [];
  for (const role of ROLES) {
    const count = roles[role];
    if (count <= 0) continue;
    const pc = g.roles[role] ?? {};
    if (pc.nodes) {
      if (pc.nodes.length !== count)
        throw new ConfigError(
          'config.invalid',
          `${key(`roles.${role}.nodes`)}: lists ${pc.nodes.length} node(s) but roles.${role} is ${count}`,
          { path: key(`roles.${role}.nodes`) },
        );
      const cluster = clusterOfNode(pc.nodes[0]!);
      const ci = await clusterInfo(cluster);
      const site = siteOfFqdn(pc.nodes[0]!) ?? ci?.site ?? g.site ?? '?';
      placements.push({ role, count, site, cluster, nodes: pc.nodes.map((n) => fqdnOf(n, site)) });
      continue;
    }
    const cluster = pc.cluster ?? g.cluster;
    if (!cluster)
      throw new ConfigError('config.invalid', `${key('cluster')}: no cluster for role ${role} (set platform.g5k.cluster, --cluster, or ${key(`roles.${role}.cluster`)})`, {
        path: key('cluster'),
      });
    const ci = await clusterInfo(cluster);
    placements.push({ role, count, site: ci?.site ?? '?', cluster, nodes: [] });
  }
  const firstPreset = placements.map((p) => clusterPreset(p.cluster)).find(Boolean);
  const firstInfo = placements.map((p) => info.get(p.cluster)).find(Boolean);
  const exotic = [...info.values()].some((c) => c?.exotic);
  const types = [...(g.deploy ? ['deploy'] : []), ...g.types, ...(exotic && !g.types.includes('exotic') ? ['exotic'] : [])];
  const job: JobOptions = {
    name: g.job_name ?? defaultJobName(exp),
    walltime: normaliseWalltime(g.walltime ?? firstPreset?.walltime ?? '01:00:00'),
    queue: g.queue ?? firstInfo?.queue ?? 'default',
    types,
  };
  if (g.project) job.project = g.project;
  if (g.reservation) job.reservation = g.reservation;
  return { config: g, placements, job, unresolved };
}

/** Where a cluster without a preset is, and its queue, from the reference API (every site when none is given). */
export async function lookupCluster(api: G5kApi, cluster: string, site: string | undefined): Promise<ClusterInfo> {
  const sites = site ? [site] : (await api.sites()).map((s) => s.uid);
  for (const s of sites) {
    try {
      const c = await api.cluster(s, cluster);
      const q = c.queues?.find((x) => x === 'default' || x === 'production' || x === 'testing' || x === 'besteffort');
      return { site: s, exotic: Boolean(c.exotic), ...(q && !c.queues?.includes('default') ? { queue: q as ClusterInfo['queue'] } : {}) };
    } catch (e) {
      if (!(e instanceof G5kApiError && e.status === 404)) throw e;
    }
  }
  throw new ConfigError(
    'config.invalid',
    `platform.g5k.cluster: no cluster named ${cluster} ${site ? `at site ${site}` : 'at any site'} in the Grid'5000 reference API`,
    { path: 'platform.g5k.cluster' },
  );
}
