/**
 * Reserving on the local platform: names and subnet claimed, the intent file written before anything
 * is created, then bridge, namespaces, veths, /etc/netns, keys and one sshd per host; a second call
 * reattaches and repairs, and only the worker count may change on a running cluster.
 * Order of work follows ../shared/research/local-cluster.md (pitfalls 1–16).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { InterruptedError, PlatformError } from '../../core/errors.js';
import { ROLES, type Role } from '../../core/types.js';
import type { PlatformHandle, ReserveRequest } from '../platform.js';
import { allocate } from './allocate.js';
import { claim, dropClaims } from './claims.js';
import { allocationFromHandle, checkRoles, handleOf, requireRoot, roleCounts } from './handle.js';
import { readIntent, writeIntent } from './intent.js';
import { ensureKeys, writeKnownHosts } from './keys.js';
import { addressOf, layoutHosts, parseSubnet, subnetOf, type LocalAllocation, type LocalHostSlot } from './names.js';
import { configureHostNetwork, createHostNamespaces, ensureBridge, ensureHostNetwork, listLinks, listNamespaces, writeNetnsEtc } from './network.js';
import { teardown } from './release.js';
import { mapLimit } from './run.js';
import { SSHD, sshdRunning, startSshd, waitForSsh } from './sshd.js';

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


export function requireTools(): void {
  const missing = TOOLS.filter(([c]) => !onPath(c)).map(([c, pkg]) => `${c} (Debian package ${pkg})`);
  try {
    accessSync(SSHD, constants.X_OK);
  } catch {
    missing.push(`${SSHD} (Debian package openssh-server)`);
  }
  if (missing.length) throw new PlatformError('platform.local.missing_tool', `the local platform needs ${missing.join(', ')}`);
}

export async function reserve(req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle> {
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

