/**
 * Releasing the local platform: everything the intent file, the handle and the machine-wide claims
 * name, and anything else carrying the experiment's tags (hosts a crash left out of every list); then
 * a check that nothing with those tags remains.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PlatformError } from '../../core/errors.js';
import type { PlatformHandle } from '../platform.js';
import { claimsOf, dropClaims } from './claims.js';
import { allocationFromHandle, requireRoot } from './handle.js';
import { readIntent, removeIntent } from './intent.js';
import { listLinks, listNamespaces, removeLink, removeNamespace, removeNetnsEtc, type RemovalReport } from './network.js';
import { killNamespaces, stopControlMasters } from './processes.js';

export async function release(stateDirIn: string, handle?: PlatformHandle, progress: (line: string) => void = () => {}): Promise<string[]> {
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
    return [];
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
  return [...report.removed, ...(report.killed ? [`${report.killed} processes`] : [])];
}

/**
 * Teardown in the order that leaves nothing behind (pitfalls 12–14): every process in the namespaces
 * (TERM, then KILL), SSH control masters and sockets, veths (before their namespaces), namespaces,
 * bridges, /etc/netns entries.
 */
export async function teardown(
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
