/**
 * Bridge, namespaces and veths of the local platform, with `ip` (iproute2). Every `ensure*` is
 * idempotent (inspect, then create only what is missing; addresses and routes use `replace`), and
 * every `remove*` treats "already gone" as success.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files.js';
import { addressOf, BRIDGE_OCTET, DEAD_GATEWAY_OCTET, type LocalHostSlot } from './names.js';
import { run, tryRun } from './run.js';

/** `ip netns exec` bind-mounts the files of /etc/netns/<ns>/ over /etc/. */
export const NETNS_ETC = '/etc/netns';

interface IpLink {
  ifname: string;
  master?: string;
}
interface IpAddrInfo {
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}
interface IpRoute {
  dst?: string;
  dev?: string;
}

/** Links of the root namespace, by name. */
export async function listLinks(): Promise<Map<string, IpLink>> {
  const out = await run('ip', ['-j', 'link', 'show'], { what: 'cannot list network links' });
  const links = JSON.parse(out || '[]') as IpLink[];
  return new Map(links.map((l) => [l.ifname, l]));
}

/** Names of the network namespaces (`ip netns list`). */
export async function listNamespaces(): Promise<Set<string>> {
  const out = await run('ip', ['-j', 'netns', 'list'], { what: 'cannot list network namespaces' });
  const list = JSON.parse(out.trim() === '' ? '[]' : out) as Array<{ name: string }>;
  return new Set(list.map((n) => n.name));
}

/** IPv4 addresses and routes of the root namespace, to detect a /24 already in use. */
export async function rootIpv4Usage(): Promise<Array<{ ifname: string; address: string; kind: 'addr' | 'route' }>> {
  const out: Array<{ ifname: string; address: string; kind: 'addr' | 'route' }> = [];
  const addrs = JSON.parse((await run('ip', ['-j', '-4', 'addr', 'show'], { what: 'cannot list addresses' })) || '[]') as IpAddrInfo[];
  for (const a of addrs) for (const i of a.addr_info ?? []) if (i.family === 'inet') out.push({ ifname: a.ifname, address: i.local, kind: 'addr' });
  const routes = JSON.parse((await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { what: 'cannot list routes' })) || '[]') as IpRoute[];
  for (const r of routes) if (r.dst && r.dst !== 'default') out.push({ ifname: r.dev ?? '', address: r.dst.split('/')[0]!, kind: 'route' });
  return out;
}

/** Create the bridge with the controller address `<prefix>.1/24`, if missing. */
export async function ensureBridge(bridge: string, prefix: string, links?: Map<string, IpLink>): Promise<void> {
  const have = links ?? (await listLinks());
  if (!have.has(bridge)) {
    await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge'], { what: `cannot create bridge ${bridge}` });
  }
  await run('ip', ['addr', 'replace', `${addressOf(prefix, BRIDGE_OCTET)}/24`, 'dev', bridge], { what: `cannot address bridge ${bridge}` });
  await run('ip', ['link', 'set', bridge, 'up'], { what: `cannot bring bridge ${bridge} up` });
}

/**
 * Create the namespaces and veth pairs of hosts whose namespace does not exist yet, with one `ip -batch`
 * (a dozen hosts cost one process instead of three dozen). Returns the hosts created.
 */
export async function createHostNamespaces(
  slots: LocalHostSlot[],
  bridge: string,
  state: { links: Map<string, IpLink>; namespaces: Set<string> },
): Promise<LocalHostSlot[]> {
  const fresh = slots.filter((s) => !state.namespaces.has(s.ns));
  if (!fresh.length) return [];
  // A veth left from a namespace deleted a moment ago (freed lazily) would block the new pair.
  for (const s of fresh) if (state.links.has(s.veth)) await tryRun('ip', ['link', 'del', s.veth]);
  const lines: string[] = [];
  for (const s of fresh) {
    lines.push(`netns add ${s.ns}`, `link add ${s.veth} type veth peer name eth0 netns ${s.ns}`, `link set ${s.veth} master ${bridge} up`);
  }
  await run('ip', ['-batch', '-'], { input: lines.join('\n') + '\n', what: `cannot create the namespaces of ${fresh.map((s) => s.name).join(', ')}` });
  for (const s of fresh) {
    state.namespaces.add(s.ns);
    state.links.set(s.veth, { ifname: s.veth, master: bridge });
  }
  return fresh;
}

/** Address, default route via the unanswered `.254`, links up: one `ip -n <ns> -batch` (idempotent). */
export async function configureHostNetwork(slot: LocalHostSlot, prefix: string): Promise<void> {
  const batch = [
    `addr replace ${addressOf(prefix, slot.octet)}/24 dev eth0`,
    'link set eth0 up',
    'link set lo up',
    `route replace default via ${addressOf(prefix, DEAD_GATEWAY_OCTET)} dev eth0`,
  ].join('\n');
  await run('ip', ['-n', slot.ns, '-batch', '-'], { input: batch + '\n', what: `cannot configure the network of ${slot.name}` });
}

/**
 * Make one existing host's network whole again: namespace, veth pair (`eth0` inside), address, default route via
 * the unanswered `.254`, loopback up, and its /etc/netns files.
 */
export async function ensureHostNetwork(
  slot: LocalHostSlot,
  prefix: string,
  bridge: string,
  state: { links: Map<string, IpLink>; namespaces: Set<string> },
): Promise<void> {
  const nsExisted = state.namespaces.has(slot.ns);
  if (!nsExisted) {
    // A veth left from a namespace deleted a moment ago (freed lazily) would block the new pair.
    if (state.links.has(slot.veth)) await tryRun('ip', ['link', 'del', slot.veth]);
    await run('ip', ['netns', 'add', slot.ns], { what: `cannot create namespace ${slot.ns}` });
    state.namespaces.add(slot.ns);
  }
  if (!nsExisted || !state.links.has(slot.veth)) {
    // Inside the namespace an old eth0 may remain only if its peer vanished; remove it first.
    await tryRun('ip', ['-n', slot.ns, 'link', 'del', 'eth0']);
    await run('ip', ['link', 'add', slot.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', slot.ns], {
      what: `cannot create veth ${slot.veth} for ${slot.name}`,
    });
  }
  await run('ip', ['link', 'set', slot.veth, 'master', bridge, 'up'], { what: `cannot attach ${slot.veth} to ${bridge}` });
  await configureHostNetwork(slot, prefix);
}

/** /etc/netns/<ns>/{hosts,resolv.conf}: bind-mounted over /etc by `ip netns exec` (no DNS timeouts). */
export function writeNetnsEtc(slot: LocalHostSlot, prefix: string, all: LocalHostSlot[], controllerName = 'controller'): void {
  const dir = join(NETNS_ETC, slot.ns);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n', 0o644);
  const lines = ['127.0.0.1 localhost', `${addressOf(prefix, BRIDGE_OCTET)} ${controllerName}`];
  for (const h of all) lines.push(`${addressOf(prefix, h.octet)} ${h.name}`);
  lines.push('::1 localhost ip6-localhost ip6-loopback');
  writeFileAtomic(join(dir, 'hosts'), lines.join('\n') + '\n', 0o644);
}

export interface RemovalReport {
  removed: string[];
  failed: Array<{ what: string; error: string }>;
}

const gone = (stderr: string): boolean =>
  /Cannot find device|does not exist|No such file or directory|not found/i.test(stderr);

export async function removeLink(name: string, report: RemovalReport): Promise<void> {
  const r = await tryRun('ip', ['link', 'del', name]);
  if (r.ok) report.removed.push(`link ${name}`);
  else if (!gone(r.stderr)) report.failed.push({ what: `link ${name}`, error: r.stderr.trim() });
}

export async function removeNamespace(ns: string, report: RemovalReport): Promise<void> {
  const r = await tryRun('ip', ['netns', 'del', ns]);
  if (r.ok) report.removed.push(`namespace ${ns}`);
  else if (!gone(r.stderr)) report.failed.push({ what: `namespace ${ns}`, error: r.stderr.trim() });
}

export function removeNetnsEtc(ns: string, report: RemovalReport): void {
  const dir = join(NETNS_ETC, ns);
  if (!existsSync(dir)) return;
  try {
    rmSync(dir, { recursive: true, force: true });
    report.removed.push(`${dir}`);
  } catch (e) {
    report.failed.push({ what: dir, error: (e as Error).message });
  }
  try {
    if (existsSync(NETNS_ETC) && readdirSync(NETNS_ETC).length === 0) rmdirSync(NETNS_ETC);
  } catch {
    // another experiment may have just written its entry: leaving /etc/netns is fine
  }
}
