/**
 * Reserving on Grid'5000: resolve clusters and sites, reattach to (or submit) one OAR job per site and
 * wait for it, deploy the environment with Kadeploy where needed, wait for SSH, and hand out the nodes
 * as hosts (each its own machine). `g5k.json` is on disk before anything is created, and updated as
 * soon as a job id is known, so `release` can clean up after a crash.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPathDir } from '../../ansible/config.js';
import { ConfigError, PlatformError } from '../../core/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../../core/files.js';
import type { Host, Role } from '../../core/types.js';
import { ROLES } from '../../core/types.js';
import type { PlatformHandle, ReserveRequest } from '../platform.js';
import type { G5kApi } from './api.js';
import { G5kApiError } from './api.js';
import type { Clock } from './clock.js';
import { clockFromEnv } from './clock.js';
import type { G5kContext } from './context.js';
import { defaultPublicKey, privateKeyFor } from './context.js';
import { deployNodes } from './deployment.js';
import { assignRoles, jobSpecs } from './oar.js';
import { clusterOfNode, shortName } from './presets.js';
import { reserveJobs } from './reservation.js';
import type { ClusterInfo } from './resolve.js';
import { g5kConfig, resolveRequest } from './resolve.js';
import type { SshTarget } from './ssh.js';
import { isDeployed, nodeSshArgs } from './ssh.js';
import { STATE_FILE, type G5kState } from './state.js';

export async function reserve(ctx: G5kContext, req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle> {
  const progress = req.progress ?? (() => {});
  const exp = req.experiment;
  const g = g5kConfig(exp);
  const api = ctx.api(g.api_url, g.api_timeout, progress);
  const clock = ctx.o.clock ?? clockFromEnv();
  const lookup = async (cluster: string, site: string | undefined): Promise<ClusterInfo> => lookupCluster(api, cluster, site);
  const r = await resolveRequest(exp, req.roles, lookup);
  const specs = jobSpecs(r.placements, r.job);
  const user = g.user ?? api.username ?? process.env.USER ?? 'root';
  const statePath = join(req.stateDir, STATE_FILE);
  const onDisk = readJsonIfExists<G5kState>(statePath);
  const prevJobs = ((previous?.data as Partial<G5kState> | undefined)?.jobs ?? onDisk?.jobs ?? []).filter((j) => specs.some((s) => s.site === j.site));
  const state: G5kState = {
    jobName: r.job.name,
    apiUrl: g.api_url,
    apiTimeout: g.api_timeout,
    sites: specs.map((s) => s.site),
    jobs: [...prevJobs],
    ...(api.username || g.user ? { user } : {}),
  };
  // On disk before anything is created: release can find the jobs by name after a crash.
  writeJsonAtomic(statePath, state);
  const { jobs, refs } = await reserveJobs(specs, {
    api,
    clock,
    progress,
    ...(req.signal ? { signal: req.signal } : {}),
    ...(api.username || g.user ? { user } : {}),
    previous: prevJobs,
    onJob: (ref) => {
      state.jobs = [...state.jobs.filter((j) => j.site !== ref.site), ref];
      writeJsonAtomic(statePath, state);
    },
  });
  state.jobs = refs;
  // Roles from each site's assigned nodes.
  const byRole = new Map<Role, string[]>();
  for (const [i, spec] of specs.entries()) {
    const job = jobs[i]!;
    const assigned = job.assigned_nodes ?? [];
    const m = assignRoles(spec.placements, assigned, spec.site);
    for (const [role, nodes] of m) byRole.set(role, [...(byRole.get(role) ?? []), ...nodes]);
  }
  const gatewayJump = ctx.jumpFor(g.jump, user, g.gateway);
  const mappedAddress = (fqdn: string): string | undefined => g.address_map[fqdn] ?? g.address_map[shortName(fqdn)];
  const addressOf = (fqdn: string): string => mappedAddress(fqdn) ?? fqdn;
  // A node mapped by address_map (e.g. the API double's nodes on local hosts) is reached at that
  // address directly, unless `jump: always`.
  const jumpOf = (fqdn: string): string | undefined => (g.jump === 'auto' && mappedAddress(fqdn) !== undefined ? undefined : gatewayJump);
  const sshUser = g.deploy ? 'root' : user;
  const keyFile = privateKeyFor(g.public_key ?? (g.deploy ? defaultPublicKey() : undefined));
  const controlDir = controlPathDir(req.stateDir);
  const target = (fqdn: string): SshTarget => {
    const jump = jumpOf(fqdn);
    return { address: addressOf(fqdn), user: sshUser, controlDir, ...(jump ? { jump } : {}), ...(keyFile ? { keyFile } : {}) };
  };
  if (g.deploy) {
    const keyPath = g.public_key ?? defaultPublicKey();
    if (!keyPath || !existsSync(keyPath))
      throw new ConfigError('config.invalid', `platform.g5k.public_key: ${keyPath ?? '~/.ssh/id_ed25519.pub'} does not exist (Kadeploy installs it for root)`, {
        path: 'platform.g5k.public_key',
      });
    const key = readFileSync(keyPath, 'utf8').trim();
    const probe = ctx.o.isDeployed ?? isDeployed;
    const sshCheck = (t: SshTarget): Promise<boolean> => ctx.sshCheck(t, 10);
    // Nodes this experiment deployed earlier in the same job(s) with the same environment are
    // skipped when root can still log in; others get the partition check.
    const before = onDisk?.deployment ?? (previous?.data as Partial<G5kState> | undefined)?.deployment;
    const sameJobs = before !== undefined && before.environment === g.environment && state.jobs.every((j) => before.jobs.some((b) => b.site === j.site && b.uid === j.uid));
    const deployedBefore = new Set(sameJobs ? before.nodes : []);
    const alreadyDeployed = async (fqdn: string): Promise<boolean> => (deployedBefore.has(fqdn) ? sshCheck(target(fqdn)) : probe(target(fqdn)));
    for (const spec of specs) {
      const nodes = [...byRole.values()].flat().filter((n) => spec.placements.some((p) => clusterOfNode(n) === p.cluster || p.nodes.includes(n)));
      await deployNodes({
        api,
        clock,
        site: spec.site,
        nodes: [...new Set(nodes)],
        environment: g.environment,
        key,
        isDeployed: alreadyDeployed,
        progress,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(ctx.o.deployPollSeconds ? { pollSeconds: ctx.o.deployPollSeconds } : {}),
      });
    }
    state.deployed = true;
    state.environment = g.environment;
    state.deployment = { jobs: state.jobs.map((j) => ({ ...j })), environment: g.environment, nodes: [...new Set([...byRole.values()].flat())] };
    writeJsonAtomic(statePath, state);
    await waitForSsh(ctx, [...byRole.values()].flat().map(target), clock, progress, req.signal);
  }
  const hosts: Host[] = [];
  const nodes: Record<string, string> = {};
  const direct: string[] = [];
  for (const role of ROLES) {
    for (const fqdn of byRole.get(role) ?? []) {
      const name = shortName(fqdn);
      nodes[name] = fqdn;
      const existing = hosts.find((h) => h.name === name);
      if (existing) {
        existing.roles.push(role);
        continue;
      }
      const jump = jumpOf(fqdn);
      if (!jump) direct.push(name);
      const vars: Record<string, string | number | boolean> = {
        ansible_ssh_common_args: nodeSshArgs(jump ? { jump } : {}),
        ansible_pipelining: true,
        g5k_fqdn: fqdn,
        g5k_site: fqdn.split('.')[1] ?? '',
      };
      if (!g.deploy) {
        vars.ansible_become = true;
        vars.ansible_become_method = 'sudo';
        vars.ansible_become_exe = 'sudo-g5k';
      }
      hosts.push({ name, address: addressOf(fqdn), port: 22, user: sshUser, roles: [role], machine: fqdn, vars, ...(keyFile ? { keyFile } : {}) });
    }
  }
  state.nodes = nodes;
  if (gatewayJump) state.jump = gatewayJump;
  else delete state.jump;
  state.direct = direct;
  state.controlDir = controlDir;
  writeJsonAtomic(statePath, state);
  // On real nodes each has its own /tmp (wiped by the next deployment); nodes that share this
  // machine's filesystem (the double mapped onto local hosts) get a folder each in the state folder.
  const dataDirs: Record<string, string> = {};
  for (const h of hosts) dataDirs[h.name] = g.shared_filesystem ? join(req.stateDir, 'hosts', h.name) : `/tmp/greenrace-${exp.name}/${h.name}`;
  return { kind: 'g5k', data: { ...state }, hosts, dataDirs, sharedFilesystem: g.shared_filesystem };
}


async function waitForSsh(ctx: G5kContext, targets: SshTarget[], clock: Clock, progress: (l: string) => void, signal?: AbortSignal): Promise<void> {
  const deadline = clock.now() + (ctx.o.sshWaitSeconds ?? 600);
  let pending = targets;
  for (let n = 1; pending.length; n++) {
    const ok = await Promise.all(pending.map((t) => ctx.sshCheck(t, 10)));
    pending = pending.filter((_, i) => !ok[i]);
    if (!pending.length) return;
    if (clock.now() >= deadline)
      throw new PlatformError('g5k.ssh.timeout', `no SSH answer from ${pending.map((t) => t.address).join(', ')} after deployment`, { hosts: pending.map((t) => t.address) });
    if (n === 1) progress(`waiting for SSH on ${pending.length} node(s)`);
    await clock.sleep(10, signal);
  }
}


async function lookupCluster(api: G5kApi, cluster: string, site: string | undefined): Promise<ClusterInfo> {
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

