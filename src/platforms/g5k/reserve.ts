/**
 * Reserving on Grid'5000: resolve clusters and sites, reattach to (or submit) one OAR job per site and
 * wait for it, deploy the environment with Kadeploy where needed, wait for SSH, and hand out the nodes
 * as hosts (each its own machine). `g5k.json` is on disk before anything is created, and updated as
 * soon as a job or deployment id is known, so `release` gives back exactly what this experiment made.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPathDir } from '../../ansible/config.js';
import { ConfigError, InterruptedError, PlatformError } from '../../core/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../../core/files.js';
import type { Host, Role } from '../../core/types.js';
import { ROLES } from '../../core/types.js';
import type { PlatformHandle, ReserveRequest } from '../platform.js';
import type { G5kApi } from './api.js';
import type { Clock } from './clock.js';
import { clockFromEnv } from './clock.js';
import type { G5kContext } from './context.js';
import { defaultPublicKey, privateKeyFor } from './context.js';
import { deployNodes } from './deployment.js';
import type { SiteJobSpec } from './oar.js';
import { assignRoles, jobSpecs, walltimeSeconds } from './oar.js';
import { clusterOfNode, shortName } from './presets.js';
import { reserveJobs, type JobRef } from './reservation.js';
import { g5kConfig, lookupCluster, resolveRequest } from './resolve.js';
import type { G5kPlatformConfig } from './schema.js';
import type { SshTarget } from './ssh.js';
import { forgetHostKeys, isDeployed, knownHostsPath, nodeSshArgs } from './ssh.js';
import { STATE_FILE, type G5kState } from './state.js';
import type { Job } from './types.js';

/** How the nodes of a reservation are reached. */
interface Reach {
  user: string;
  sshUser: string;
  gatewayJump: string | undefined;
  keyFile: string | undefined;
  controlDir: string;
  knownHosts: string;
  addressOf(fqdn: string): string;
  jumpOf(fqdn: string): string | undefined;
  target(fqdn: string): SshTarget;
}

function reachOf(ctx: G5kContext, g: G5kPlatformConfig, user: string, stateDir: string): Reach {
  const gatewayJump = ctx.jumpFor(g.jump, user, g.gateway);
  const mapped = (fqdn: string): string | undefined => g.address_map[fqdn] ?? g.address_map[shortName(fqdn)];
  // A node mapped by address_map (e.g. the API double's nodes on local hosts) is reached at that
  // address directly, unless `jump: always`.
  const jumpOf = (fqdn: string): string | undefined => (g.jump === 'auto' && mapped(fqdn) !== undefined ? undefined : gatewayJump);
  const addressOf = (fqdn: string): string => mapped(fqdn) ?? fqdn;
  const sshUser = g.deploy ? 'root' : user;
  const keyFile = privateKeyFor(g.public_key ?? (g.deploy ? defaultPublicKey() : undefined));
  const controlDir = controlPathDir(stateDir);
  const knownHosts = knownHostsPath(stateDir);
  const target = (fqdn: string): SshTarget => {
    const jump = jumpOf(fqdn);
    return { address: addressOf(fqdn), user: sshUser, controlDir, knownHosts, ...(jump ? { jump } : {}), ...(keyFile ? { keyFile } : {}) };
  };
  return { user, sshUser, gatewayJump, keyFile, controlDir, knownHosts, addressOf, jumpOf, target };
}

/** The public key Kadeploy installs for root, read before anything is reserved. */
function publicKeyContent(g: G5kPlatformConfig): string {
  const keyPath = g.public_key ?? defaultPublicKey();
  if (!keyPath || !existsSync(keyPath))
    throw new ConfigError('config.invalid', `platform.g5k.public_key: ${keyPath ?? '~/.ssh/id_ed25519.pub'} does not exist (Kadeploy installs it for root)`, {
      path: 'platform.g5k.public_key',
    });
  return readFileSync(keyPath, 'utf8').trim();
}

function rolesOf(specs: SiteJobSpec[], jobs: Job[]): Map<Role, string[]> {
  const byRole = new Map<Role, string[]>();
  for (const [i, spec] of specs.entries()) {
    const m = assignRoles(spec.placements, jobs[i]!.assigned_nodes ?? [], spec.site);
    for (const [role, nodes] of m) byRole.set(role, [...(byRole.get(role) ?? []), ...nodes]);
  }
  return byRole;
}

function keptLine(jobs: JobRef[], name: string): string {
  const list = jobs.map((j) => `${j.uid} at ${j.site}`).join(', ');
  return `job${jobs.length > 1 ? 's' : ''} ${list} kept: \`entrypoint setup ${name}\` reattaches, \`entrypoint killjob ${name}\` deletes ${jobs.length > 1 ? 'them' : 'it'}`;
}

export async function reserve(ctx: G5kContext, req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle> {
  const progress = req.progress ?? (() => {});
  const exp = req.experiment;
  const g = g5kConfig(exp);
  const clock = ctx.o.clock ?? clockFromEnv();
  const api = ctx.api(g.api_url, g.api_timeout, progress, {
    now: () => clock.now(),
    sleep: (ms) => clock.sleep(ms / 1000),
    ...(req.signal ? { signal: req.signal } : {}),
  });
  const key = g.deploy ? publicKeyContent(g) : undefined;
  const r = await resolveRequest(exp, req.roles, (cluster, site) => lookupCluster(api, cluster, site));
  const specs = jobSpecs(r.placements, r.job);
  const user = ctx.login(g.user, api);
  const statePath = join(req.stateDir, STATE_FILE);
  const onDisk = readJsonIfExists<G5kState>(statePath);
  const before = (previous?.data as Partial<G5kState> | undefined) ?? onDisk;
  const prevJobs = (before?.jobs ?? []).filter((j) => specs.some((s) => s.site === j.site));
  const state: G5kState = { jobName: r.job.name, apiUrl: g.api_url, apiTimeout: g.api_timeout, sites: specs.map((s) => s.site), jobs: [...prevJobs], user };
  if (before?.deploying?.length) state.deploying = before.deploying;
  const save = (): void => writeJsonAtomic(statePath, state);
  // On disk before anything is created; every job and deployment id is added as soon as it is known.
  save();
  const { jobs, refs } = await reserveJobs(specs, {
    api,
    clock,
    user,
    progress,
    ...(req.signal ? { signal: req.signal } : {}),
    previous: prevJobs,
    waitTimeout: g.wait_timeout ?? walltimeSeconds(r.job.walltime),
    commands: { setup: `entrypoint setup ${exp.name}`, killjob: `entrypoint killjob ${exp.name}` },
    onJob: (ref) => {
      state.jobs = [...state.jobs.filter((j) => j.site !== ref.site), ref];
      state.submitting = (state.submitting ?? []).filter((x) => x.site !== ref.site);
      if (!state.submitting.length) delete state.submitting;
      save();
    },
    onSubmit: (site, submitting) => {
      state.submitting = [...(state.submitting ?? []).filter((x) => x.site !== site), ...(submitting ? [{ site, since: Math.floor(api.serverNow()) }] : [])];
      if (!state.submitting.length) delete state.submitting;
      save();
    },
  });
  state.jobs = refs;
  const byRole = rolesOf(specs, jobs);
  const reach = reachOf(ctx, g, user, req.stateDir);
  if (key !== undefined) {
    try {
      await deployAll(ctx, { api, clock, g, key, specs, byRole, reach, state, save, progress, prior: onDisk?.deployment ?? before?.deployment, ...(req.signal ? { signal: req.signal } : {}) });
    } catch (e) {
      if (e instanceof InterruptedError || req.signal?.aborted) {
        throw new InterruptedError(`${e instanceof InterruptedError ? e.message : `setup of ${exp.name} interrupted`}; ${keptLine(state.jobs, exp.name)}`);
      }
      throw e;
    }
  }
  const hosts = hostsOf(byRole, reach, g, state);
  state.controlDir = reach.controlDir;
  state.knownHosts = reach.knownHosts;
  if (reach.gatewayJump) state.jump = reach.gatewayJump;
  else delete state.jump;
  save();
  // On real nodes each has its own /tmp (wiped by the next deployment); nodes that share this
  // machine's filesystem (the double mapped onto local hosts) get a folder each in the state folder.
  const dataDirs: Record<string, string> = {};
  for (const h of hosts) dataDirs[h.name] = g.shared_filesystem ? join(req.stateDir, 'hosts', h.name) : `/tmp/greenrace-${exp.name}/${h.name}`;
  return { kind: 'g5k', data: { ...state }, hosts, dataDirs, sharedFilesystem: g.shared_filesystem };
}

interface DeployAll {
  api: G5kApi;
  clock: Clock;
  g: G5kPlatformConfig;
  key: string;
  specs: SiteJobSpec[];
  byRole: Map<Role, string[]>;
  reach: Reach;
  state: G5kState;
  save: () => void;
  progress: (l: string) => void;
  prior: G5kState['deployment'] | undefined;
  signal?: AbortSignal;
}

/**
 * Deploy every site's nodes, skipping nodes this experiment deployed earlier in the same job(s) with
 * the same environment (when root can still log in) and nodes already on a deployed image; forget
 * the old host keys of the nodes deployed; wait for SSH.
 */
async function deployAll(ctx: G5kContext, d: DeployAll): Promise<void> {
  const { g, state, reach } = d;
  const sameJobs = d.prior !== undefined && d.prior.environment === g.environment && state.jobs.every((j) => d.prior!.jobs.some((b) => b.site === j.site && b.uid === j.uid));
  const deployedBefore = new Set(sameJobs ? d.prior!.nodes : []);
  const probe = ctx.o.isDeployed ?? isDeployed;
  const alreadyDeployed = async (fqdn: string): Promise<boolean> => (deployedBefore.has(fqdn) ? ctx.sshCheck(reach.target(fqdn), 10) : probe(reach.target(fqdn)));
  const all = [...new Set([...d.byRole.values()].flat())];
  for (const spec of d.specs) {
    const nodes = all.filter((n) => spec.placements.some((p) => clusterOfNode(n) === p.cluster || p.nodes.includes(n)));
    const report = await deployNodes({
      api: d.api,
      clock: d.clock,
      site: spec.site,
      nodes,
      environment: g.environment,
      key: d.key,
      user: reach.user,
      isDeployed: alreadyDeployed,
      progress: d.progress,
      onDeployment: (uid) => {
        state.deploying = uid ? [...(state.deploying ?? []).filter((x) => x.site !== spec.site), { site: spec.site, uid }] : (state.deploying ?? []).filter((x) => x.site !== spec.site);
        if (!state.deploying.length) delete state.deploying;
        d.save();
      },
      ...(d.signal ? { signal: d.signal } : {}),
      ...(ctx.o.deployPollSeconds ? { pollSeconds: ctx.o.deployPollSeconds } : {}),
    });
    await forgetHostKeys(reach.knownHosts, report.deployed.map(reach.addressOf));
  }
  state.deployed = true;
  state.environment = g.environment;
  state.deployment = { jobs: state.jobs.map((j) => ({ ...j })), environment: g.environment, nodes: all };
  d.save();
  await waitForSsh(ctx, all.map(reach.target), d.clock, d.progress, d.signal);
}

function hostsOf(byRole: Map<Role, string[]>, reach: Reach, g: G5kPlatformConfig, state: G5kState): Host[] {
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
      const jump = reach.jumpOf(fqdn);
      if (!jump) direct.push(name);
      const vars: Record<string, string | number | boolean> = {
        ansible_ssh_common_args: nodeSshArgs({ knownHosts: reach.knownHosts, ...(jump ? { jump } : {}) }),
        ansible_pipelining: true,
        g5k_fqdn: fqdn,
        g5k_site: fqdn.split('.')[1] ?? '',
      };
      if (!g.deploy) {
        vars.ansible_become = true;
        vars.ansible_become_method = 'sudo';
        vars.ansible_become_exe = 'sudo-g5k';
      }
      const keyFile = reach.keyFile;
      hosts.push({ name, address: reach.addressOf(fqdn), port: 22, user: reach.sshUser, roles: [role], machine: fqdn, vars, ...(keyFile ? { keyFile } : {}) });
    }
  }
  state.nodes = nodes;
  state.direct = direct;
  return hosts;
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
