/**
 * The local platform: N hosts on this machine, each a network namespace on a private bridge with its
 * own address, hostname (UTS namespace) and sshd, reached over real SSH with a per-experiment key.
 * Order of work and of teardown follows ../shared/research/local-cluster.md (pitfalls 1–16).
 */
import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { InterruptedError, PlatformError } from '../../core/errors.js';
import { ROLES, type Host, type Role, type RoleSizes } from '../../core/types.js';
import type { HostStatus, Platform, PlatformHandle, PlatformPlan, ReserveRequest } from '../platform.js';
import { allocate } from './allocate.js';
import { readIntent, removeIntent, writeIntent } from './intent.js';
import { ensureKeys, sshPaths, writeKnownHosts } from './keys.js';
import {
  addressOf,
  BRIDGE_OCTET,
  DEAD_GATEWAY_OCTET,
  layoutHosts,
  MAX_LOCAL_HOSTS,
  parseSubnet,
  subnetOf,
  totalHosts,
  type LocalAllocation,
  type LocalHostSlot,
} from './names.js';
import {
  configureHostNetwork,
  createHostNamespaces,
  ensureBridge,
  ensureHostNetwork,
  listLinks,
  listNamespaces,
  removeLink,
  removeNamespace,
  removeNetnsEtc,
  writeNetnsEtc,
  type RemovalReport,
} from './network.js';
import { killNamespaces, stopControlMasters } from './processes.js';
import { claim, claimsOf, dropClaims } from './registry.js';
import { mapLimit, shQuote, sleep } from './run.js';
import { SSHD, sshdRunning, sshTrue, startSshd, waitForSsh } from './sshd.js';

/** What a local handle keeps in `data` (JSON, no secrets: paths to keys, never keys). */
export interface LocalHandleData {
  experiment: string;
  stateDir: string;
  tag: string;
  bridge: string;
  prefix: string;
  subnet: string;
  slots: LocalHostSlot[];
  sshDir: string;
  knownHosts: string;
}

const TOOLS: Array<[string, string]> = [
  ['ip', 'iproute2'],
  ['unshare', 'util-linux'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
];

function onPath(cmd: string): boolean {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

export function requireRoot(action: string): void {
  if (process.getuid && process.getuid() !== 0) {
    throw new PlatformError(
      'platform.local.not_root',
      `the local platform needs root to ${action} (network namespaces, a bridge and sshd); run as root, or use platform.kind: static`,
    );
  }
}

function requireTools(): void {
  const missing = TOOLS.filter(([c]) => !onPath(c)).map(([c, pkg]) => `${c} (Debian package ${pkg})`);
  try {
    accessSync(SSHD, constants.X_OK);
  } catch {
    missing.push(`${SSHD} (Debian package openssh-server)`);
  }
  if (missing.length) throw new PlatformError('platform.local.missing_tool', `the local platform needs ${missing.join(', ')}`);
}

function roleCounts(slots: LocalHostSlot[]): RoleSizes {
  const c: RoleSizes = { control: 0, broker: 0, worker: 0 };
  for (const s of slots) c[s.role]++;
  return c;
}

export function allocationFromHandle(h: PlatformHandle | undefined): LocalAllocation | undefined {
  if (!h || h.kind !== 'local') return undefined;
  const d = h.data as Partial<LocalHandleData>;
  if (!d.tag || !d.bridge || !d.prefix || !Array.isArray(d.slots) || !d.stateDir) return undefined;
  return { experiment: d.experiment ?? '', stateDir: d.stateDir, tag: d.tag, bridge: d.bridge, prefix: d.prefix, hosts: d.slots };
}

function checkRoles(roles: RoleSizes): void {
  const n = totalHosts(roles);
  if (n < 1) throw new PlatformError('platform.local.no_hosts', 'the experiment asks for no hosts (roles.control + roles.broker + roles.worker = 0)');
  if (n > MAX_LOCAL_HOSTS) {
    throw new PlatformError('platform.local.too_many_hosts', `the local platform fits at most ${MAX_LOCAL_HOSTS} hosts in its /24; the experiment asks for ${n}`);
  }
}

export function handleOf(a: LocalAllocation): PlatformHandle {
  const ssh = sshPaths(a.stateDir);
  const commonArgs = `-o UserKnownHostsFile=${shQuote(ssh.knownHosts)} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`;
  const hosts: Host[] = a.hosts.map((s) => ({
    name: s.name,
    address: addressOf(a.prefix, s.octet),
    port: 22,
    user: 'root',
    keyFile: ssh.clientKey,
    roles: [s.role],
    vars: { ansible_ssh_common_args: commonArgs, ansible_python_interpreter: '/usr/bin/python3', gr_netns: s.ns },
  }));
  const data: LocalHandleData = {
    experiment: a.experiment,
    stateDir: a.stateDir,
    tag: a.tag,
    bridge: a.bridge,
    prefix: a.prefix,
    subnet: subnetOf(a.prefix),
    slots: a.hosts,
    sshDir: ssh.dir,
    knownHosts: ssh.knownHosts,
  };
  return {
    kind: 'local',
    data: data as unknown as Record<string, unknown>,
    hosts,
    controllerAddress: addressOf(a.prefix, BRIDGE_OCTET),
    dataDirs: Object.fromEntries(a.hosts.map((s) => [s.name, join(a.stateDir, 'hosts', s.name)])),
    sharedFilesystem: true,
  };
}

function planLines(a: LocalAllocation, note: string): string[] {
  const lines = [
    `platform local: ${a.hosts.length} hosts as network namespaces on this machine${note}`,
    `bridge ${a.bridge}: ${addressOf(a.prefix, BRIDGE_OCTET)}/24 = controller address (subnet ${subnetOf(a.prefix)})`,
    `no route out: hosts' default route goes via ${addressOf(a.prefix, DEAD_GATEWAY_OCTET)}, which nobody answers; ip_forward is not touched`,
    `ssh: root with a key generated under ${join(a.stateDir, 'ssh')}/, one sshd per host, StrictHostKeyChecking=yes`,
  ];
  const w = Math.max(...a.hosts.map((h) => h.name.length));
  for (const h of a.hosts) {
    lines.push(`  ${h.name.padEnd(w)}  ${addressOf(a.prefix, h.octet).padEnd(15)}  role ${h.role.padEnd(7)} netns ${h.ns}  data ${join(a.stateDir, 'hosts', h.name)}`);
  }
  return lines;
}

export class LocalPlatform implements Platform {
  readonly kind = 'local' as const;

  async plan(req: ReserveRequest): Promise<PlatformPlan> {
    checkRoles(req.roles);
    const stateDir = resolve(req.stateDir);
    const intent = readIntent(stateDir);
    let a: LocalAllocation;
    let note: string;
    if (intent) {
      const had = roleCounts(intent.allocation.hosts);
      const changed = (['control', 'broker'] as Role[]).filter((r) => had[r] !== req.roles[r]);
      a = { ...intent.allocation, hosts: layoutHosts(intent.allocation.tag, req.roles, intent.allocation.hosts) };
      note = ' (already reserved: reattaches to the existing namespaces)';
      if (changed.length) note += ` [the running cluster has ${changed.map((r) => `${r}=${had[r]}`).join(', ')}: setup will refuse; killjob first]`;
      else if (had.worker !== req.roles.worker) note += ` [workers ${had.worker} → ${req.roles.worker}]`;
    } else {
      a = await allocate({
        experiment: req.experiment.name,
        stateDir,
        roles: req.roles,
        ...(req.experiment.platform.local.subnet ? { subnet: req.experiment.platform.local.subnet } : {}),
        claim: false,
      });
      note = '';
    }
    if (process.getuid && process.getuid() !== 0) note += ' [needs root: setup will fail as this user]';
    return { lines: planLines(a, note), hosts: handleOf(a).hosts };
  }

  async reserve(req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle> {
    requireRoot('create hosts');
    requireTools();
    checkRoles(req.roles);
    const progress = req.progress ?? (() => {});
    const stateDir = resolve(req.stateDir);
    const exp = req.experiment.name;
    const wantedSubnet = req.experiment.platform.local.subnet;
    const checkAbort = (): void => {
      if (req.signal?.aborted) throw new InterruptedError('setup interrupted while creating local hosts; run killjob to clean up');
    };

    const intent = readIntent(stateDir);
    const before = intent?.allocation ?? allocationFromHandle(previous);
    let removing: LocalHostSlot[] = intent?.removing ?? [];
    let a: LocalAllocation;
    if (before) {
      if (wantedSubnet && parseSubnet(wantedSubnet) !== before.prefix) {
        throw new PlatformError(
          'platform.local.subnet_changed',
          `experiment ${exp} is up on ${subnetOf(before.prefix)} but platform.local.subnet is now ${wantedSubnet}`,
          { hint: `run killjob ${exp} first to move it` },
        );
      }
      const had = roleCounts(before.hosts);
      const changed = (['control', 'broker'] as Role[]).filter((r) => had[r] !== req.roles[r]);
      if (changed.length) {
        throw new PlatformError(
          'platform.local.roles_changed',
          `experiment ${exp} is up with ${changed.map((r) => `${r}=${had[r]}`).join(', ')}; it now asks for ${changed.map((r) => `${r}=${req.roles[r]}`).join(', ')}. Only the worker count can change on a running cluster`,
          { hint: `run killjob ${exp}, then setup again` },
        );
      }
      const hosts = layoutHosts(before.tag, req.roles, before.hosts);
      removing = [...removing, ...before.hosts.filter((h) => !hosts.some((n) => n.name === h.name))];
      a = { ...before, experiment: exp, stateDir, hosts };
      const links = new Set((await listLinks()).keys());
      const owner = { experiment: exp, stateDir, tag: a.tag, prefix: a.prefix, bridge: a.bridge };
      if (!claim('tag', a.tag, owner, links) || !claim('net', a.prefix, owner, links)) {
        throw new PlatformError('platform.local.claimed', `the names or subnet of experiment ${exp} (${a.tag}, ${subnetOf(a.prefix)}) are now held by another experiment`, {
          hint: `run killjob ${exp}, then setup again`,
        });
      }
      const scaled = had.worker !== req.roles.worker;
      progress(
        `local: reattaching to ${before.hosts.length} hosts on ${a.bridge} (${subnetOf(a.prefix)})` +
          (scaled ? `; workers ${had.worker} → ${req.roles.worker}` : ''),
      );
    } else {
      try {
        a = await allocate({ experiment: exp, stateDir, roles: req.roles, ...(wantedSubnet ? { subnet: wantedSubnet } : {}), claim: true });
      } catch (e) {
        dropClaims(stateDir);
        throw e;
      }
      progress(`local: creating ${a.hosts.length} hosts on bridge ${a.bridge} (${subnetOf(a.prefix)})`);
    }

    // Before creating anything: the names, so release can clean up after a crash from here on.
    writeIntent(stateDir, a, 'reserving', removing);
    checkAbort();

    const ssh = await ensureKeys(stateDir, exp);
    for (const h of a.hosts) mkdirSync(join(stateDir, 'hosts', h.name), { recursive: true });
    const state = { links: await listLinks(), namespaces: await listNamespaces() };
    await ensureBridge(a.bridge, a.prefix, state.links);
    // New hosts: one batch; hosts that exist: inspected and repaired one by one.
    const fresh = new Set((await createHostNamespaces(a.hosts, a.bridge, state)).map((h) => h.name));
    await mapLimit(a.hosts, 4, async (h) => {
      checkAbort();
      if (fresh.has(h.name)) await configureHostNetwork(h, a.prefix);
      else await ensureHostNetwork(h, a.prefix, a.bridge, state);
      writeNetnsEtc(h, a.prefix, a.hosts);
    });
    writeKnownHosts(ssh, a.hosts.map((h) => addressOf(a.prefix, h.octet)));

    if (removing.length) {
      progress(`local: removing ${removing.map((h) => h.name).join(', ')}`);
      const report = await teardown(stateDir, { bridges: [], namespaces: removing.map((h) => h.ns), veths: removing.map((h) => h.veth) }, false);
      if (report.failed.length) {
        throw new PlatformError('platform.local.scale_down_failed', `could not remove ${removing.map((h) => h.name).join(', ')}`, {
          details: report.failed.map((f) => `${f.what}: ${f.error}`),
        });
      }
      removing = [];
      writeIntent(stateDir, a, 'reserving', removing);
    }

    const started: string[] = [];
    await mapLimit(a.hosts, 4, async (h) => {
      checkAbort();
      if (!fresh.has(h.name) && (await sshdRunning(h.ns))) return;
      await startSshd(h, addressOf(a.prefix, h.octet), stateDir, ssh);
      started.push(h.name);
    });
    if (started.length && before) progress(`local: started sshd on ${started.sort().join(', ')}`);
    checkAbort();
    progress(`local: waiting for SSH on ${a.hosts.length} hosts`);
    await waitForSsh(
      a.hosts.map((h) => ({ name: h.name, address: addressOf(a.prefix, h.octet) })),
      ssh,
      stateDir,
      { deadlineMs: 20_000 + 1000 * a.hosts.length, ...(req.signal ? { signal: req.signal } : {}) },
    );
    checkAbort();
    writeIntent(stateDir, a, 'ready');
    progress(`local: ${a.hosts.length} hosts up (${ROLES.map((r) => `${r} ${req.roles[r]}`).join(', ')})`);
    return handleOf(a);
  }

  async status(handle: PlatformHandle): Promise<HostStatus[]> {
    const d = handle.data as Partial<LocalHandleData>;
    const stateDir = d.stateDir ?? '';
    const ssh = sshPaths(stateDir);
    // A busy 2-core machine can take seconds per handshake: 4 at a time, 5 s to connect.
    return mapLimit(handle.hosts, 4, async (h) => {
      const base = { host: h.name, address: h.address, roles: [...h.roles] };
      if (!existsSync(ssh.clientKey)) return { ...base, reachable: false, detail: `no SSH key at ${ssh.clientKey}` };
      let r = await sshTrue(ssh, h.address, 5);
      if (!r.ok) {
        // one more try: a handshake dropped by a momentarily overloaded machine is not a dead host
        await sleep(500);
        r = await sshTrue(ssh, h.address, 5);
      }
      return { ...base, reachable: r.ok, detail: r.detail };
    });
  }

  async release(stateDirIn: string, handle?: PlatformHandle, progress: (line: string) => void = () => {}): Promise<void> {
    const stateDir = resolve(stateDirIn);
    const intent = readIntent(stateDir);
    const fromHandle = allocationFromHandle(handle);
    const claims = claimsOf(stateDir);
    const tags = new Set<string>();
    const bridges = new Set<string>();
    const namespaces = new Set<string>();
    const veths = new Set<string>();
    for (const a of [intent?.allocation, fromHandle]) {
      if (!a) continue;
      tags.add(a.tag);
      bridges.add(a.bridge);
      for (const h of a.hosts) {
        namespaces.add(h.ns);
        veths.add(h.veth);
      }
    }
    for (const h of intent?.removing ?? []) {
      namespaces.add(h.ns);
      veths.add(h.veth);
    }
    for (const { claim: c } of claims) {
      if (c.tag) tags.add(c.tag);
      if (c.bridge) bridges.add(c.bridge);
    }
    const cpDir = join(stateDir, 'cp');
    if (tags.size === 0 && !existsSync(cpDir)) {
      progress('local: nothing to release');
      return;
    }
    requireRoot('release hosts');
    // Anything carrying our tags counts, even hosts a crash left out of every list.
    const [links, nss] = await Promise.all([listLinks(), listNamespaces()]);
    for (const t of tags) {
      for (const n of nss) if (n.startsWith(`${t}-`)) namespaces.add(n);
      for (const l of links.keys()) if (l.startsWith(`${t}h`)) veths.add(l);
    }
    const report = await teardown(stateDir, { bridges: [...bridges], namespaces: [...namespaces], veths: [...veths] }, true);
    // Verify: nothing with our tags may remain.
    const [links2, nss2] = await Promise.all([listLinks(), listNamespaces()]);
    for (const t of tags) {
      for (const n of nss2) if (n.startsWith(`${t}-`) && !report.failed.some((f) => f.what.endsWith(n))) report.failed.push({ what: `namespace ${n}`, error: 'still present' });
      for (const l of links2.keys())
        if ((l === `${t}br` || l.startsWith(`${t}h`)) && !report.failed.some((f) => f.what.endsWith(l))) report.failed.push({ what: `link ${l}`, error: 'still present' });
    }
    const nNs = report.removed.filter((r) => r.startsWith('namespace ')).length;
    if (report.removed.length === 0 && report.killed === 0 && report.failed.length === 0) progress('local: nothing to release');
    else progress(`local: released ${nNs} namespaces, ${report.removed.filter((r) => r.startsWith('link ')).length} links${report.killed ? `, stopped ${report.killed} processes` : ''}`);
    if (report.failed.length) {
      throw new PlatformError('platform.local.release_incomplete', `could not remove everything of the local platform (${report.failed.length} left); run killjob again, or remove them by hand`, {
        details: report.failed.slice(0, 20).map((f) => `${f.what}: ${f.error}`),
      });
    }
    dropClaims(stateDir);
    removeIntent(stateDir);
    for (const d of [join(stateDir, 'local'), join(stateDir, 'ssh'), cpDir]) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * Teardown in the order that leaves nothing behind (pitfalls 12–14): every process in the namespaces
 * (TERM, then KILL), SSH control masters and sockets, veths (before their namespaces), namespaces,
 * bridges, /etc/netns entries.
 */
async function teardown(
  stateDir: string,
  names: { bridges: string[]; namespaces: string[]; veths: string[] },
  withControlMasters: boolean,
): Promise<RemovalReport & { killed: number }> {
  const report: RemovalReport & { killed: number } = { removed: [], failed: [], killed: 0 };
  const k = await killNamespaces(names.namespaces);
  report.killed = k.killed;
  for (const s of k.survivors) report.failed.push({ what: 'process', error: s });
  if (withControlMasters) {
    const cp = await stopControlMasters(join(stateDir, 'cp'));
    for (const f of cp.failed) report.failed.push({ what: 'control socket', error: f });
  }
  for (const v of names.veths) await removeLink(v, report);
  for (const ns of names.namespaces) await removeNamespace(ns, report);
  for (const b of names.bridges) await removeLink(b, report);
  for (const ns of names.namespaces) removeNetnsEtc(ns, report);
  return report;
}
