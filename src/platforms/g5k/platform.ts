import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { controlPathDir } from '../../ansible/config.js';
import { ConfigError, PlatformError } from '../../core/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../../core/files.js';
import type { Host, Role } from '../../core/types.js';
import { ROLES } from '../../core/types.js';
import type { HostStatus, Platform, PlatformHandle, PlatformPlan, ReserveRequest } from '../platform.js';
import { G5kApi, G5kApiError } from './api.js';
import type { Clock } from './clock.js';
import { clockFromEnv } from './clock.js';
import { insideGrid5000, loadCredentials } from './credentials.js';
import { deployNodes } from './deployment.js';
import { assignRoles, HOLD_COMMAND, jobSpecs } from './oar.js';
import { clusterOfNode, shortName } from './presets.js';
import { LIVE_STATES, reserveJobs } from './reservation.js';
import type { JobRef } from './reservation.js';
import type { ClusterInfo } from './resolve.js';
import { g5kConfig, resolveRequest } from './resolve.js';
import type { SshTarget } from './ssh.js';
import { isDeployed, sshCommonArgs, sshRun } from './ssh.js';

/** What the g5k platform keeps in the state folder (and in the handle's `data`). No secrets. */
export interface G5kState {
  jobName: string;
  apiUrl: string;
  apiTimeout: number;
  user?: string;
  sites: string[];
  jobs: JobRef[];
  deployed?: boolean;
  environment?: string;
  /** inventory name → fqdn */
  nodes?: Record<string, string>;
  jump?: string;
  /** Inventory names reached at their `address_map` address without the jump host. */
  direct?: string[];
  /** The experiment's ssh control folder (connection sharing; closed by killjob). */
  controlDir?: string;
  /** What the last deployment put on which nodes, in which job(s): a reattaching setup skips them. */
  deployment?: { jobs: JobRef[]; environment: string; nodes: string[] };
}

export const STATE_FILE = 'g5k.json';

export interface G5kPlatformOptions {
  /** Build the API client (tests give one pointed at the double). */
  api?: (baseUrl: string, timeoutSeconds: number, log: (line: string) => void) => G5kApi;
  clock?: Clock;
  /** Already-deployed check for a node (default: ssh root@node, partition 3 mounted on /). */
  isDeployed?: (t: SshTarget) => Promise<boolean>;
  /** SSH reachability (default: `ssh ... true`). */
  sshCheck?: (t: SshTarget) => Promise<boolean>;
  /** Inside Grid'5000 (default: this machine's name ends in grid5000.fr). */
  inside?: boolean;
  deployPollSeconds?: number;
  /** How long to wait for SSH after deployment, s. */
  sshWaitSeconds?: number;
}

function defaultApi(inside: boolean) {
  return (baseUrl: string, timeoutSeconds: number, log: (line: string) => void): G5kApi => {
    const credentials = loadCredentials({ inside });
    return new G5kApi({ baseUrl, timeoutMs: timeoutSeconds * 1000, log, ...(credentials ? { credentials } : {}) });
  };
}

export class G5kPlatform implements Platform {
  readonly kind = 'g5k' as const;
  readonly #o: G5kPlatformOptions;
  readonly #inside: boolean;

  constructor(opts: G5kPlatformOptions = {}) {
    this.#o = opts;
    this.#inside = opts.inside ?? insideGrid5000();
  }

  #api(url: string, timeout: number, log: (l: string) => void): G5kApi {
    return (this.#o.api ?? defaultApi(this.#inside))(url, timeout, log);
  }

  #jumpFor(jump: 'auto' | 'always' | 'never', user: string, gateway: string): string | undefined {
    const use = jump === 'always' || (jump === 'auto' && !this.#inside);
    return use ? `${user}@${gateway}` : undefined;
  }

  /** The job(s) that reserve would submit, and how nodes would be reached. Calls no API. */
  async plan(req: ReserveRequest): Promise<PlatformPlan> {
    const r = await resolveRequest(req.experiment, req.roles);
    const g = r.config;
    const specs = jobSpecs(r.placements, r.job);
    const user = g.user ?? safeUsername() ?? '<your Grid\'5000 login>';
    const lines: string[] = [];
    for (const s of specs) {
      const site = s.site === '?' ? '<site from the reference API>' : s.site;
      lines.push(`g5k job ${JSON.stringify(s.name)} at ${site}: POST ${g.api_url}/sites/${site}/jobs`);
      lines.push(`  resources: ${s.resources}`);
      lines.push(`  queue: ${s.submission.queue}`);
      lines.push(`  types: ${(s.submission.types ?? []).join(', ') || '(none)'}`);
      if (s.submission.project) lines.push(`  project: ${s.submission.project}`);
      if (s.submission.reservation) lines.push(`  reservation: ${s.submission.reservation}`);
      lines.push(`  command: ${HOLD_COMMAND}`);
      lines.push(`  request: ${JSON.stringify(s.submission)}`);
      for (const p of s.placements) lines.push(`  ${p.role}: ${p.nodes.length ? p.nodes.join(', ') : `${p.count} node(s) of ${p.cluster}`}`);
    }
    if (r.unresolved.length) lines.push(`  cluster(s) ${r.unresolved.join(', ')}: not in the presets; their site is looked up in the reference API at reserve`);
    lines.push(`  reattach: a waiting or running job named ${r.job.name} is reused instead of submitting another`);
    if (g.deploy) lines.push(`  deploy: ${g.environment} with key ${g.public_key ?? defaultPublicKey() ?? '~/.ssh/id_ed25519.pub (missing)'}; at most 3 attempts; nodes already deployed are skipped`);
    const jump = this.#jumpFor(g.jump, user, g.gateway);
    lines.push(`  ssh: ${g.deploy ? 'root' : `${user} (root through sudo-g5k)`}@<node>.<site>.grid5000.fr${jump ? ` via ProxyJump ${jump}` : ' (direct: inside Grid\'5000)'}`);
    const mapped = Object.keys(g.address_map).length;
    if (mapped) lines.push(`  address_map: ${mapped} node(s) reached at their mapped address${g.jump === 'auto' ? ', without the gateway' : ''}${g.shared_filesystem ? '; they share this machine\'s filesystem' : ''}`);
    const hosts: Host[] = [];
    for (const p of r.placements) {
      for (let i = 0; i < p.count; i++) {
        const fq = p.nodes[i];
        const name = fq ? shortName(fq) : `${p.cluster}-${p.role}${i + 1}`;
        hosts.push({ name, address: fq ?? `<a ${p.cluster} node assigned by OAR>`, port: 22, user: g.deploy ? 'root' : user, roles: [p.role] });
      }
    }
    return { lines, hosts };
  }

  async reserve(req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle> {
    const progress = req.progress ?? (() => {});
    const exp = req.experiment;
    const g = g5kConfig(exp);
    const api = this.#api(g.api_url, g.api_timeout, progress);
    const clock = this.#o.clock ?? clockFromEnv();
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
    const gatewayJump = this.#jumpFor(g.jump, user, g.gateway);
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
      const probe = this.#o.isDeployed ?? isDeployed;
      const sshCheck = this.#o.sshCheck ?? (async (t: SshTarget) => (await sshRun(t, 'true', 10)) === 0);
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
          ...(this.#o.deployPollSeconds ? { pollSeconds: this.#o.deployPollSeconds } : {}),
        });
      }
      state.deployed = true;
      state.environment = g.environment;
      state.deployment = { jobs: state.jobs.map((j) => ({ ...j })), environment: g.environment, nodes: [...new Set([...byRole.values()].flat())] };
      writeJsonAtomic(statePath, state);
      await this.#waitForSsh([...byRole.values()].flat().map(target), clock, progress, req.signal);
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
          ansible_ssh_common_args: sshCommonArgs(jump ? { jump } : {}),
          ansible_pipelining: true,
          g5k_fqdn: fqdn,
          g5k_site: fqdn.split('.')[1] ?? '',
        };
        if (!g.deploy) {
          vars.ansible_become = true;
          vars.ansible_become_method = 'sudo';
          vars.ansible_become_exe = 'sudo-g5k';
        }
        hosts.push({ name, address: addressOf(fqdn), port: 22, user: sshUser, roles: [role], vars, ...(keyFile ? { keyFile } : {}) });
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

  async #waitForSsh(targets: SshTarget[], clock: Clock, progress: (l: string) => void, signal?: AbortSignal): Promise<void> {
    const check = this.#o.sshCheck ?? (async (t: SshTarget) => (await sshRun(t, 'true', 10)) === 0);
    const deadline = clock.now() + (this.#o.sshWaitSeconds ?? 600);
    let pending = targets;
    for (let n = 1; pending.length; n++) {
      const ok = await Promise.all(pending.map(check));
      pending = pending.filter((_, i) => !ok[i]);
      if (!pending.length) return;
      if (clock.now() >= deadline)
        throw new PlatformError('g5k.ssh.timeout', `no SSH answer from ${pending.map((t) => t.address).join(', ')} after deployment`, { hosts: pending.map((t) => t.address) });
      if (n === 1) progress(`waiting for SSH on ${pending.length} node(s)`);
      await clock.sleep(10, signal);
    }
  }

  async status(handle: PlatformHandle): Promise<HostStatus[]> {
    const st = handle.data as unknown as G5kState;
    const api = this.#api(st.apiUrl, st.apiTimeout ?? 30, () => {});
    const jobStates = new Map<string, string>();
    for (const j of st.jobs ?? []) {
      try {
        jobStates.set(j.site, (await api.getJob(j.site, j.uid)).state);
      } catch (e) {
        jobStates.set(j.site, e instanceof G5kApiError && e.status === 404 ? 'unknown to OAR' : `API error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const check = this.#o.sshCheck ?? (async (t: SshTarget) => (await sshRun(t, 'true', 5)) === 0);
    return Promise.all(
      handle.hosts.map(async (h) => {
        const site = String(h.vars?.g5k_site ?? '');
        const js = jobStates.get(site);
        const base = { host: h.name, address: h.address, roles: [...h.roles] };
        if (js && js !== 'running') return { ...base, reachable: false, detail: `job at ${site} is ${js}` };
        const jump = st.jump && !(st.direct ?? []).includes(h.name) ? st.jump : undefined;
        const ok = await check({ address: h.address, user: h.user, ...(jump ? { jump } : {}), ...(h.keyFile ? { keyFile: h.keyFile } : {}), ...(st.controlDir ? { controlDir: st.controlDir } : {}) });
        return { ...base, reachable: ok, detail: `job ${js ?? '?'}${ok ? '' : ', no SSH answer'}` };
      }),
    );
  }

  /** Delete the job(s) by stored id, else by name at the stored sites. "Already killed" is fine. */
  async release(stateDir: string, handle?: PlatformHandle, progress: (line: string) => void = () => {}): Promise<void> {
    const statePath = join(stateDir, STATE_FILE);
    const st = (handle?.data as unknown as G5kState | undefined)?.jobName ? (handle!.data as unknown as G5kState) : readJsonIfExists<G5kState>(statePath);
    if (!st) {
      progress('g5k: no job recorded; nothing to release');
      return;
    }
    const api = this.#api(st.apiUrl, st.apiTimeout ?? 30, progress);
    const refs: JobRef[] = [...(st.jobs ?? [])];
    for (const site of st.sites ?? []) {
      if (refs.some((r) => r.site === site)) continue;
      const found = await api.listJobs(site, { name: st.jobName, state: LIVE_STATES, ...(st.user ? { user: st.user } : {}) });
      for (const j of found.filter((x) => x.name === st.jobName)) refs.push({ site, uid: j.uid });
      if (!found.length) progress(`g5k: no live job named ${st.jobName} at ${site}`);
    }
    for (const r of refs) {
      const res = await api.deleteJob(r.site, r.uid);
      progress(res === 'deleted' ? `g5k: deleted job ${r.uid} at ${r.site}` : `g5k: job ${r.uid} at ${r.site} was already over`);
    }
    rmSync(statePath, { force: true });
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

function defaultPublicKey(): string | undefined {
  for (const f of ['id_ed25519.pub', 'id_rsa.pub', 'id_ecdsa.pub']) {
    const p = join(homedir(), '.ssh', f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function privateKeyFor(publicKey: string | undefined): string | undefined {
  if (!publicKey?.endsWith('.pub')) return undefined;
  const k = publicKey.slice(0, -4);
  return existsSync(k) ? k : undefined;
}

function safeUsername(): string | undefined {
  try {
    return loadCredentials({ inside: true })?.username;
  } catch {
    return undefined;
  }
}
